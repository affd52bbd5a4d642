/**
 * The parsed form of `ipset -L` (list) and `ipset save` output: sets with their type, header options and
 * members. Types only; parsing lives in parseIpset.ts and membership tests in ipsetMatch.ts.
 */

/** What one comma-separated part of a member holds, from the type name (`hash:ip,port,net` → ip, port, net). */
export type IpsetDimension = 'ip' | 'net' | 'port' | 'mac' | 'mark' | 'iface' | 'set';

export interface IpsetMember {
  /** The element as printed, e.g. `10.96.0.10,udp:53`. */
  readonly element: string;
  /** Seconds left, when the set has a timeout. */
  readonly timeout?: number;
  /** The member comment, when the set was created with `comment`. */
  readonly comment?: string;
  /** `nomatch`: a hash:net exception that makes lookups of covered addresses fail. */
  readonly nomatch: boolean;
  /** Other options as printed (`packets 0 bytes 0`, `skbmark 0x1` …). */
  readonly options: string[];
  /** 1-based line. */
  readonly line: number;
  readonly raw: string;
}

export interface IpsetSet {
  readonly name: string;
  /** `hash:ip,port`, `bitmap:port`, … as printed. */
  readonly type: string;
  readonly dimensions: IpsetDimension[];
  readonly revision?: number;
  /** `family inet|inet6` of hash types; undefined for bitmap and list types. */
  readonly family?: 'inet' | 'inet6';
  /** Header options: `hashsize` → `1024`, `range` → `0-65535`; flag-only options map to ''. */
  readonly header: Record<string, string>;
  readonly references?: number;
  /** `Number of entries:` as listed; the members array is what was read. */
  readonly declaredEntries?: number;
  readonly members: IpsetMember[];
  /** Line of `Name:` or `create`. */
  readonly line: number;
}

export interface IpsetCollection {
  /** The snapshot file the sets came from, e.g. `ipset.txt`. */
  readonly file: string;
  readonly sets: IpsetSet[];
  get(name: string): IpsetSet | undefined;
}
