/**
 * Canonical text for IP addresses and prefixes, so that ipset members, IPVS addresses and packet fields
 * written differently (`2001:DB8::1`, `2001:db8:0::1`) meet in the same hash key. Built on ipaddr.js;
 * anything that is not a plain dotted-quad IPv4 or an IPv6 address is rejected rather than guessed.
 */

import ipaddr from 'ipaddr.js';
import { CANONICAL_IPV4 } from '../net/ipv4';

export type IpFamily = 'inet' | 'inet6';

/** The canonical form of an address, or undefined when the text is not one. */
export function normalizeIp(text: string): string | undefined {
  // Canonical dotted quads (the common case) are returned as they are, without a parse or an allocation.
  if (CANONICAL_IPV4.test(text)) return text;
  if (text.includes(':')) {
    return ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text).toString() : undefined;
  }
  return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text).toString() : undefined;
}

export function familyOf(normalizedIp: string): IpFamily {
  return normalizedIp.includes(':') ? 'inet6' : 'inet';
}

export function maxPrefixLength(family: IpFamily): number {
  return family === 'inet6' ? 128 : 32;
}

/** The network address of `ip/length`, canonical; the address must already be normalized. */
export function networkAddress(normalizedIp: string, length: number): string {
  if (length >= maxPrefixLength(familyOf(normalizedIp))) return normalizedIp;
  const cidr = `${normalizedIp}/${length}`;
  return familyOf(normalizedIp) === 'inet6'
    ? ipaddr.IPv6.networkAddressFromCIDR(cidr).toString()
    : ipaddr.IPv4.networkAddressFromCIDR(cidr).toString();
}

/** Parses `10.0.0.0/8` or a bare address (a host prefix); undefined when malformed. */
export function parsePrefix(text: string): { network: string; length: number; family: IpFamily } | undefined {
  const slash = text.indexOf('/');
  const address = normalizeIp(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const family = familyOf(address);
  const lengthText = slash < 0 ? String(maxPrefixLength(family)) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText)) return undefined;
  const length = Number(lengthText);
  if (length > maxPrefixLength(family)) return undefined;
  return { network: networkAddress(address, length), length, family };
}
