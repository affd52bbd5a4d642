/**
 * IPv4 addresses and prefixes as 32-bit numbers, for the hot paths of matching and indexing. Only the canonical
 * dotted-decimal form that iptables-save, ip and nft print is read here (what ipaddr.js calls a valid four-part
 * decimal: each octet 0–255, no leading zeros; a test holds the two equal); every other form of an address
 * (IPv6, octal, hex) is left to ipaddr.js by the callers that accept it.
 */

export interface Prefix4 {
  /** Network address as an unsigned 32-bit number. */
  readonly network: number;
  /** Netmask as an unsigned 32-bit number. */
  readonly mask: number;
  /** Prefix length, or -1 for a non-contiguous mask. */
  readonly bits: number;
}

/** Octets of a dotted quad as the tools print them: decimal, no leading zeros, each 0–255. */
export const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * The address as an unsigned 32-bit number, or undefined when the text is not a canonical dotted quad. The
 * tracer asks this for every address of every rule it passes, so it is one regex test and a digit loop.
 */
export function parseIPv4(text: string): number | undefined {
  if (!CANONICAL_IPV4.test(text)) return undefined;
  let value = 0;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46) {
      value = value * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (code - 48);
  }
  return value * 256 + octet;
}

/** `10.0.0.0/8`, `10.0.0.1` (a /32) or `10.0.0.0/255.0.0.0` as iptables prints non-prefix masks. */
export function parsePrefix4(text: string): Prefix4 | undefined {
  const slash = text.indexOf('/');
  const address = parseIPv4(slash === -1 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  if (slash === -1) return { network: address, mask: 0xffffffff, bits: 32 };
  const maskText = text.slice(slash + 1);
  let mask: number;
  let bits: number;
  if (/^\d{1,2}$/.test(maskText)) {
    bits = Number(maskText);
    if (bits > 32) return undefined;
    mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  } else {
    const dotted = parseIPv4(maskText);
    if (dotted === undefined) return undefined;
    mask = dotted;
    const ones = (~mask >>> 0).toString(2);
    bits = mask === 0xffffffff ? 32 : /^1*$/.test(ones) ? 32 - ones.length : -1;
  }
  return { network: (address & mask) >>> 0, mask, bits };
}

export function prefixContains(prefix: Prefix4, address: number): boolean {
  return ((address & prefix.mask) >>> 0) === prefix.network;
}
