/**
 * Compares packet fields with values as nft prints them: addresses, prefixes and ranges (IPv4 and IPv6),
 * protocols by name or number, ports and port ranges, marks, and symbolic values (`new`, `local`).
 * Set and map lookups over concatenated keys are built on these. Which field a selector reads, and what
 * to do when it cannot be read, is the tracer's business.
 */

import ipaddr from 'ipaddr.js';
import { CANONICAL_IPV4, parseIPv4 } from '../net/ipv4';
import type { NftKey } from './model';

/** What a selector yields for the packet: an address, a number, or a symbolic word. */
export type FieldValue =
  | { type: 'address'; value: string }
  | { type: 'number'; value: number }
  | { type: 'word'; value: string }
  /** A bit set such as `ct status`: a value matches when it names one of the bits that are set. */
  | { type: 'flags'; value: string[] };

const PROTOCOL_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, udplite: 136, dccp: 33, gre: 47, esp: 50, ah: 51 };

/** Protocol numbers back to the names nft prints. */
const PROTOCOL_NAMES = new Map(Object.entries(PROTOCOL_NUMBERS).map(([name, number]) => [number, name]));

export function protocolNumber(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  return PROTOCOL_NUMBERS[text];
}

/** `0x00004000`, `16384` → number; undefined for anything else. */
export function parseNumber(text: string): number | undefined {
  if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text, 16);
  if (/^\d+$/.test(text)) return Number(text);
  return undefined;
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  try {
    return ipaddr.parse(text);
  } catch {
    return undefined;
  }
}

/** Bytes of an address for ordered comparison; IPv4 and IPv6 never compare equal. */
function addressBytes(address: ipaddr.IPv4 | ipaddr.IPv6): number[] {
  return address.toByteArray();
}

function compareBytes(a: number[], b: number[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** addressMatches for an IPv4 packet address and a canonical IPv4 address, prefix or range; undefined to take the general path. */
function ipv4Matches(address: number, text: string): boolean | undefined {
  const slash = text.indexOf('/');
  if (slash !== -1) {
    const network = parseIPv4(text.slice(0, slash));
    const bitsText = text.slice(slash + 1);
    const bits = /^\d{1,2}$/.test(bitsText) ? Number(bitsText) : -1;
    if (network === undefined || bits < 0 || bits > 32) return undefined;
    const size = 2 ** (32 - bits);
    return Math.floor(address / size) === Math.floor(network / size);
  }
  const dash = text.indexOf('-');
  if (dash !== -1) {
    const low = parseIPv4(text.slice(0, dash));
    const high = parseIPv4(text.slice(dash + 1));
    if (low === undefined || high === undefined) return undefined;
    return address >= low && address <= high;
  }
  const single = parseIPv4(text);
  return single === undefined ? undefined : single === address;
}

/** Does the address fall within `text`: an address, a `prefix/len`, or a `low-high` range? */
export function addressMatches(ip: string, text: string): boolean | undefined {
  const v4 = parseIPv4(ip);
  if (v4 !== undefined) {
    const fast = ipv4Matches(v4, text);
    if (fast !== undefined) return fast;
  }
  const address = parseAddress(ip);
  if (!address) return undefined;
  const slash = text.indexOf('/');
  if (slash !== -1) {
    const network = parseAddress(text.slice(0, slash));
    const bits = Number(text.slice(slash + 1));
    if (!network || !Number.isInteger(bits) || network.kind() !== address.kind()) return network ? false : undefined;
    return (address as ipaddr.IPv4).match(network as ipaddr.IPv4, bits);
  }
  const dash = text.indexOf('-');
  if (dash !== -1) {
    const low = parseAddress(text.slice(0, dash));
    const high = parseAddress(text.slice(dash + 1));
    if (!low || !high) return undefined;
    if (low.kind() !== address.kind()) return false;
    const bytes = addressBytes(address);
    return compareBytes(bytes, addressBytes(low)) >= 0 && compareBytes(bytes, addressBytes(high)) <= 0;
  }
  const single = parseAddress(text);
  if (!single) return undefined;
  return single.kind() === address.kind() && compareBytes(addressBytes(single), addressBytes(address)) === 0;
}

/** Does a number fall within `text`: a number, a `low-high` range, or a protocol name? */
export function numberMatches(value: number, text: string, protocolNames = false): boolean | undefined {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const low = parseNumber(text.slice(0, dash));
    const high = parseNumber(text.slice(dash + 1));
    if (low === undefined || high === undefined) return undefined;
    return value >= low && value <= high;
  }
  const number = protocolNames ? protocolNumber(text) : parseNumber(text);
  if (number === undefined) return undefined;
  return value === number;
}

/** One component of a key: undefined when the element text cannot be read for this kind of field. */
export function componentMatches(field: FieldValue, text: string, isProtocol: boolean): boolean | undefined {
  switch (field.type) {
    case 'address':
      return addressMatches(field.value, text);
    case 'number':
      return numberMatches(field.value, text, isProtocol);
    case 'word':
      return field.value === text;
    case 'flags':
      return field.value.includes(text);
  }
}

/** Does the concatenated key match the element key? undefined when some component cannot be read. */
export function keyMatches(fields: FieldValue[], key: NftKey, protocolComponents: boolean[]): boolean | undefined {
  if (key.length !== fields.length) return undefined;
  let unknown = false;
  for (let i = 0; i < fields.length; i++) {
    const result = componentMatches(fields[i], key[i], protocolComponents[i]);
    if (result === false) return false;
    if (result === undefined) unknown = true;
  }
  return unknown ? undefined : true;
}

/** The packet's fields as nft would print them in a key, for explanations: `10.96.0.10 . udp . 53`. */
export function formatFields(fields: FieldValue[], protocolComponents: boolean[]): string {
  return fields
    .map((field, i) => {
      if (field.type === 'number' && protocolComponents[i]) return PROTOCOL_NAMES.get(field.value) ?? String(field.value);
      return String(field.value);
    })
    .join(' . ');
}


/**
 * A set's elements indexed for lookups: elements whose key components are single values are found by
 * their normalised key text; elements with prefixes or ranges are kept aside and compared one by one.
 */
export interface ElementIndex<T extends { key: NftKey }> {
  exact: Map<string, T>;
  fuzzy: T[];
}

/** `10.0.0.1`, `tcp` → `6`, `0x4000` → `16384`, `local`; undefined for prefixes and ranges. */
function normalizeComponent(text: string): string | undefined {
  if (text.includes('/')) return undefined;
  // ipaddr.js prints an IPv4 address the way nft does, so nft's own form is already normal.
  if (CANONICAL_IPV4.test(text)) return text;
  const number = parseNumber(text);
  if (number !== undefined) return String(number);
  const protocol = PROTOCOL_NUMBERS[text];
  if (protocol !== undefined) return String(protocol);
  if (text.includes('.') || text.includes(':')) {
    const address = parseAddress(text);
    return address ? address.toNormalizedString() : undefined;
  }
  if (text.includes('-')) return undefined;
  return text;
}

export function fieldText(field: FieldValue): string {
  if (field.type === 'address') return CANONICAL_IPV4.test(field.value) ? field.value : (parseAddress(field.value)?.toNormalizedString() ?? field.value);
  if (field.type === 'flags') return field.value.join(',');
  return String(field.value);
}

export function indexElements<T extends { key: NftKey }>(elements: T[]): ElementIndex<T> {
  const index: ElementIndex<T> = { exact: new Map(), fuzzy: [] };
  for (const element of elements) {
    const parts = element.key.map(normalizeComponent);
    if (parts.some((part) => part === undefined)) index.fuzzy.push(element);
    else {
      const key = parts.join(' . ');
      if (!index.exact.has(key)) index.exact.set(key, element);
    }
  }
  return index;
}

const indexes = new WeakMap<object, ElementIndex<{ key: NftKey }>>();

/** The element whose key matches the fields; undefined result when some element could not be compared. */
export function lookupElement<T extends { key: NftKey }>(
  owner: object,
  elements: T[],
  fields: FieldValue[],
  protocolComponents: boolean[],
): { element?: T; unreadable: boolean } {
  let index = indexes.get(owner) as ElementIndex<T> | undefined;
  if (!index) {
    index = indexElements(elements);
    indexes.set(owner, index);
  }
  const exact = index.exact.get(fields.map(fieldText).join(' . '));
  if (exact && exact.key.length === fields.length) return { element: exact, unreadable: false };
  let unreadable = false;
  for (const element of index.fuzzy) {
    const result = keyMatches(fields, element.key, protocolComponents);
    if (result === true) return { element, unreadable: false };
    if (result === undefined) unreadable = true;
  }
  return { unreadable };
}
