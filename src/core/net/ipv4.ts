/**
 * IPv4 addresses and prefixes as 32-bit numbers, for the hot paths of matching and indexing. Parsing and
 * validation go through ipaddr.js; this file only turns its results into numbers that compare fast.
 */

import ipaddr from 'ipaddr.js';

export interface Prefix4 {
  /** Network address as an unsigned 32-bit number. */
  readonly network: number;
  /** Netmask as an unsigned 32-bit number. */
  readonly mask: number;
  /** Prefix length, or -1 for a non-contiguous mask. */
  readonly bits: number;
}

/** The address as an unsigned 32-bit number, or undefined when the text is not a dotted-quad IPv4 address. */
const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export function parseIPv4(text: string): number | undefined {
  // ipaddr.js throws (slowly) inside its validity check on text that is not an address: look at the shape first.
  if (!DOTTED_QUAD.test(text) || !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  const [a, b, c, d] = ipaddr.IPv4.parse(text).octets;
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
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
