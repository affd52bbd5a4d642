/**
 * Membership tests with the kernel's semantics for `-m set --match-set NAME dst,dst,src`: each direction
 * picks the packet's source or destination field for the set's dimension at that position. Lookups are
 * hash accesses: an index per set is built on first use, and net dimensions are tried once per prefix
 * length present in the set, most specific first (a `nomatch` entry found first makes the test fail).
 */

import { familyOf, maxPrefixLength, networkAddress, normalizeIp, parsePrefix } from './ipAddress';
import type { IpsetMember, IpsetSet } from './model';

export type IpsetDirection = 'src' | 'dst';

export interface IpsetPacket {
  src: string;
  dst: string;
  proto: string;
  sport: number;
  dport: number;
}

interface SetIndex {
  /** Undefined when the set's type holds dimensions this module cannot test (mac, mark, iface, set). */
  readonly members: Map<string, IpsetMember> | undefined;
  /** Distinct prefix-length tuples of the address dimensions, most specific first. */
  readonly prefixTuples: number[][];
  /** Some members could not be read (ranges, unknown formats): a miss then cannot prove absence. */
  readonly incomplete: boolean;
  /**
   * For sets of several dimensions whose first part is always a host address (hash:ip,port and the like): those
   * addresses, so a packet whose address is in no member is turned away without building a key.
   */
  readonly firstHosts?: Set<string>;
}

const indexes = new WeakMap<IpsetSet, SetIndex>();

/**
 * True when the packet's fields, taken in the given directions, form a member of the set; false when they
 * do not; undefined when this cannot be decided (a type with mac/mark/iface/set parts, or unreadable members).
 * Like the kernel, fewer directions than the set has dimensions never match, and a packet of the other
 * address family never matches a hash set.
 */
export function ipsetMatch(set: IpsetSet, directions: IpsetDirection[], packet: IpsetPacket): boolean | undefined {
  const index = indexOf(set);
  if (!index.members) return undefined;
  if (directions.length < set.dimensions.length) return false;

  const bitmapPort = set.type === 'bitmap:port';
  // The kernel's bitmap:port reads ports of TCP and UDP packets only; that is why kube-proxy keeps SCTP
  // NodePorts in hash:ip,port sets (KUBE-NODE-PORT-SCTP-HASH).
  if (bitmapPort && !['tcp', 'udp'].includes(packet.proto.toLowerCase())) return false;
  const addresses: string[] = [];
  const ports: string[] = [];
  for (let position = 0; position < set.dimensions.length; position++) {
    const direction = directions[position]!;
    const dimension = set.dimensions[position]!;
    if (dimension === 'port') {
      const port = direction === 'src' ? packet.sport : packet.dport;
      ports.push(bitmapPort ? String(port) : `${packet.proto.toLowerCase()}:${port}`);
    } else {
      const address = normalizeIp(direction === 'src' ? packet.src : packet.dst);
      if (address === undefined) return undefined;
      if (set.family !== undefined && familyOf(address) !== set.family) return false;
      addresses.push(address);
    }
  }

  if (index.firstHosts && !index.firstHosts.has(addresses[0]!)) return index.incomplete ? undefined : false;
  for (const tuple of index.prefixTuples) {
    const key = buildKey(set, addresses, ports, tuple);
    const member = index.members.get(key);
    if (member) return !member.nomatch;
  }
  return index.incomplete ? undefined : false;
}

/**
 * `ipsetMatch(set, ['dst', 'dst'], packet to address:port) === true` for the common `address,proto:port` sets
 * (hash:ip,port, hash:net,port), without building the packet, direction and part lists a general test needs:
 * the Service tree asks it for every virtual server. Other set types take the general path.
 */
export function ipsetHasAddressPort(set: IpsetSet, address: string, protocol: string, port: number): boolean {
  const dimensions = set.dimensions;
  const index = indexOf(set);
  if (!index.members || dimensions.length !== 2 || dimensions[0] === 'port' || dimensions[1] !== 'port' || set.type === 'bitmap:port') {
    return ipsetMatch(set, ['dst', 'dst'], { src: address, dst: address, proto: protocol, sport: 0, dport: port }) === true;
  }
  const normalized = normalizeIp(address);
  if (normalized === undefined) return false;
  if (set.family !== undefined && familyOf(normalized) !== set.family) return false;
  if (index.firstHosts && !index.firstHosts.has(normalized)) return false;
  const portPart = `${protocol.toLowerCase()}:${port}`;
  for (const tuple of index.prefixTuples) {
    const member = index.members.get(`${addressPart(normalized, tuple[0]!)}|${portPart}`);
    if (member) return !member.nomatch;
  }
  return false;
}

/**
 * `ipsetMatch(set, ['dst'], packet to address) === true` for one-dimension address sets (hash:ip, hash:net,
 * bitmap:ip), without the lists a general test builds; other set types take the general path.
 */
export function ipsetHasAddress(set: IpsetSet, address: string): boolean {
  const dimensions = set.dimensions;
  const index = indexOf(set);
  if (!index.members || dimensions.length !== 1 || dimensions[0] === 'port') {
    return ipsetMatch(set, ['dst'], { src: address, dst: address, proto: 'tcp', sport: 0, dport: 0 }) === true;
  }
  const normalized = normalizeIp(address);
  if (normalized === undefined) return false;
  if (set.family !== undefined && familyOf(normalized) !== set.family) return false;
  for (const tuple of index.prefixTuples) {
    const member = index.members.get(addressPart(normalized, tuple[0]!));
    if (member) return !member.nomatch;
  }
  return false;
}

/**
 * The index key of one candidate member: its parts joined by `|`, an address part written as the bare address at
 * full length (so a host lookup needs no new string) and as `network/length` when shorter.
 */
function buildKey(set: IpsetSet, addresses: string[], ports: string[], tuple: number[]): string {
  const dimensions = set.dimensions;
  if (dimensions.length === 1 && ports.length === 0) return addressPart(addresses[0]!, tuple[0]!);
  let key = '';
  let address = 0;
  let port = 0;
  for (let position = 0; position < dimensions.length; position++) {
    if (position > 0) key += '|';
    if (dimensions[position] === 'port') {
      key += ports[port++]!;
    } else {
      key += addressPart(addresses[address]!, tuple[address]!);
      address++;
    }
  }
  return key;
}

function addressPart(normalizedIp: string, length: number): string {
  return length >= maxPrefixLength(familyOf(normalizedIp)) ? normalizedIp : `${networkAddress(normalizedIp, length)}/${length}`;
}

function indexOf(set: IpsetSet): SetIndex {
  const cached = indexes.get(set);
  if (cached) return cached;
  const testable = set.dimensions.length > 0 && set.dimensions.every((d) => d === 'ip' || d === 'net' || d === 'port');
  let index: SetIndex;
  if (!testable) {
    index = { members: undefined, prefixTuples: [], incomplete: true };
  } else {
    const members = new Map<string, IpsetMember>();
    const tuples = new Map<string, number[]>();
    let incomplete = false;
    let firstHosts: Set<string> | undefined = set.dimensions.length > 1 && set.dimensions[0] !== 'port' ? new Set() : undefined;
    // hash:ip and bitmap:ip with `netmask N` store network addresses of that length.
    const netmask = set.header['netmask'] !== undefined && /^\d+$/.test(set.header['netmask']) ? Number(set.header['netmask']) : undefined;
    let previous: number[] | undefined;
    for (const member of set.members) {
      const parsed = memberKey(set, member.element, netmask);
      if (!parsed) {
        incomplete = true;
        continue;
      }
      if (!members.has(parsed.key)) members.set(parsed.key, member);
      // Members of one set nearly always share their prefix lengths: the tuple is keyed only when it changes.
      if (!previous || !sameNumbers(previous, parsed.tuple)) tuples.set(parsed.tuple.join(','), parsed.tuple);
      previous = parsed.tuple;
      if (firstHosts) {
        if (parsed.tuple[0]! < maxPrefixLength(familyOf(parsed.first))) firstHosts = undefined;
        else firstHosts.add(parsed.first);
      }
    }
    const prefixTuples = [...tuples.values()].sort((a, b) => sum(b) - sum(a));
    index = { members, prefixTuples, incomplete, ...(firstHosts ? { firstHosts } : {}) };
  }
  indexes.set(set, index);
  return index;
}

/** A member's hash key and the prefix lengths of its address parts; undefined when unreadable. */
function memberKey(set: IpsetSet, element: string, netmask: number | undefined): { key: string; tuple: number[]; first: string } | undefined {
  const parts = element.split(',');
  if (parts.length !== set.dimensions.length) return undefined;
  const bitmapPort = set.type === 'bitmap:port';
  let key = '';
  let first = '';
  const tuple: number[] = [];
  for (let position = 0; position < parts.length; position++) {
    const part = parts[position]!;
    const dimension = set.dimensions[position]!;
    let piece: string;
    if (dimension === 'port') {
      const port = readPortPart(part);
      if (!port) return undefined;
      piece = bitmapPort ? String(port.number) : `${port.protocol}:${port.number}`;
    } else if (!part.includes('/') && netmask === undefined) {
      // A host address, the common case: no prefix arithmetic needed.
      const address = normalizeIp(part);
      if (address === undefined) return undefined;
      piece = address;
      tuple.push(maxPrefixLength(familyOf(address)));
    } else {
      const prefix = parsePrefix(part);
      if (!prefix) return undefined;
      const length = dimension === 'ip' && netmask !== undefined && !part.includes('/') ? Math.min(netmask, prefix.length) : prefix.length;
      piece = addressPart(prefix.network, length);
      tuple.push(length);
    }
    if (position === 0) {
      key = piece;
      first = piece;
    } else {
      key = `${key}|${piece}`;
    }
  }
  return { key, tuple, first };
}

/**
 * A port part, `[proto:]digits` (1 to 5 digits; the protocol letters and digits in any case, tcp when absent),
 * with the protocol in lower case; undefined for anything else.
 */
function readPortPart(part: string): { protocol: string; number: number } | undefined {
  const colon = part.indexOf(':');
  const digitsStart = colon + 1;
  const digits = part.length - digitsStart;
  if (digits < 1 || digits > 5) return undefined;
  for (let i = digitsStart; i < part.length; i++) {
    const code = part.charCodeAt(i);
    if (code < 48 || code > 57) return undefined;
  }
  if (colon < 0) return { protocol: 'tcp', number: Number(part) };
  if (colon === 0) return undefined;
  let lower = true;
  for (let i = 0; i < colon; i++) {
    const code = part.charCodeAt(i);
    const isLower = (code >= 97 && code <= 122) || (code >= 48 && code <= 57);
    if (!isLower && !(code >= 65 && code <= 90)) return undefined;
    if (!isLower) lower = false;
  }
  const protocol = part.slice(0, colon);
  return { protocol: lower ? protocol : protocol.toLowerCase(), number: Number(part.slice(digitsStart)) };
}

function sameNumbers(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
