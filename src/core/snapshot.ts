/**
 * The snapshot folder as core sees it: the text of each collected file, keyed by its file name.
 * Reading the folder from disk lives in src/node; core only takes the strings.
 */

export const SNAPSHOT_FILES = [
  'iptables-save.txt',
  'ip6tables-save.txt',
  'ipvsadm.txt',
  'ipset.txt',
  'route-local.txt',
  'nft.txt',
  'addr.txt',
  'route-main.txt',
  // The other iptables backend's rules, kept by the collector when both backends hold rules.
  'iptables-legacy-save.txt',
  'iptables-nft-save.txt',
] as const;

export type SnapshotFileName = (typeof SNAPSHOT_FILES)[number];

/** What the collector writes into meta.json, per DESIGN.md. Extra fields are allowed. */
export interface SnapshotMeta {
  node?: string;
  address?: string;
  time?: string;
  commands?: Record<string, CommandRecord>;
  [key: string]: unknown;
}

export interface CommandRecord {
  argv: string[];
  exitCode: number | null;
  stderr: string;
  bytes: number;
  milliseconds: number;
  [key: string]: unknown;
}

export interface Snapshot {
  /** A label for messages, usually the folder path or node name. */
  readonly name: string;
  /** File name → text; a missing key means the file was not collected. */
  readonly files: Partial<Record<SnapshotFileName, string>>;
  readonly meta?: SnapshotMeta;
}
