/**
 * The fixed list of read-only commands a collection runs on a node, and which snapshot file each one feeds.
 * Nothing here is configurable: no setting, flag or host name ever becomes part of a remote command line.
 * Choosing between the iptables backends happens in iptablesBackend.ts once their output is in.
 */

import type { SnapshotFileName } from '../../core/snapshot';

export interface NodeCommand {
  /** Stable key in meta.json's `commands`. */
  readonly id: string;
  readonly argv: readonly string[];
  /** The snapshot file the output becomes when kept; undefined for outputs chosen later or kept only in meta. */
  readonly file?: SnapshotFileName;
  /** For commands whose output is a candidate for a file (the iptables backends). */
  readonly candidateFor?: 'iptables' | 'ip6tables';
  readonly backend?: IptablesBackend;
}

export type IptablesBackend = 'nft' | 'legacy' | 'default';

/** Run together, in this order, as parallel channels. */
export const FIRST_ROUND: readonly NodeCommand[] = [
  { id: 'iptables-nft-save', argv: ['iptables-nft-save'], candidateFor: 'iptables', backend: 'nft' },
  { id: 'iptables-legacy-save', argv: ['iptables-legacy-save'], candidateFor: 'iptables', backend: 'legacy' },
  { id: 'ipset -L', argv: ['ipset', '-L'], file: 'ipset.txt' },
  { id: 'ipvsadm -Ln', argv: ['ipvsadm', '-Ln'], file: 'ipvsadm.txt' },
  { id: 'nft list ruleset', argv: ['nft', 'list', 'ruleset'], file: 'nft.txt' },
  { id: 'ip route show table local', argv: ['ip', 'route', 'show', 'table', 'local'], file: 'route-local.txt' },
  { id: 'ip route show table main', argv: ['ip', 'route', 'show', 'table', 'main'], file: 'route-main.txt' },
  { id: 'ip -o addr show', argv: ['ip', '-o', 'addr', 'show'], file: 'addr.txt' },
  { id: 'ip6tables-nft-save', argv: ['ip6tables-nft-save'], candidateFor: 'ip6tables', backend: 'nft' },
  { id: 'ip6tables-legacy-save', argv: ['ip6tables-legacy-save'], candidateFor: 'ip6tables', backend: 'legacy' },
  { id: 'uname -n', argv: ['uname', '-n'] },
];

/** Run only when neither backend-specific save exists (iptables before 1.8 ships only these). */
export const IPTABLES_FALLBACK: NodeCommand = {
  id: 'iptables-save',
  argv: ['iptables-save'],
  candidateFor: 'iptables',
  backend: 'default',
};
export const IP6TABLES_FALLBACK: NodeCommand = {
  id: 'ip6tables-save',
  argv: ['ip6tables-save'],
  candidateFor: 'ip6tables',
  backend: 'default',
};

/** The argv actually sent: `sudo -n` in front when asked, so a sudo that wants a password fails instead of waiting. */
export function remoteArgv(command: NodeCommand, sudo: boolean): string[] {
  return sudo ? ['sudo', '-n', ...command.argv] : [...command.argv];
}
