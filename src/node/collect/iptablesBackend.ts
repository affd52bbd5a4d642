/**
 * Which iptables backend holds kube-proxy's rules. iptables-nft-save and iptables-legacy-save each show only
 * their own tables while the kernel applies both, so the collector keeps the one with KUBE-* chains as
 * iptables-save.txt and, when the other one holds rules too, keeps it beside it under its own name.
 */

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { IptablesBackend } from './commandSet';

export interface SaveSummary {
  /** `:KUBE-…` chain declarations. */
  readonly kubeChains: number;
  /** `-A …` rule lines. */
  readonly rules: number;
}

export interface BackendCandidate {
  readonly backend: IptablesBackend;
  readonly summary: SaveSummary;
}

export interface BackendChoice {
  /** The backend whose output becomes iptables-save.txt. */
  readonly primary: IptablesBackend;
  /** Other backends that hold rules, kept as `iptables-<backend>-save.txt`. */
  readonly alsoKept: IptablesBackend[];
}

/** Counts KUBE-* chains and rules in an iptables-save file by streaming it line by line. */
export async function summarizeSaveFile(path: string): Promise<SaveSummary> {
  let kubeChains = 0;
  let rules = 0;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.startsWith(':KUBE-')) kubeChains++;
    else if (line.startsWith('-A ')) rules++;
  }
  return { kubeChains, rules };
}

/**
 * The backend with KUBE-* chains wins (the one with more of them if both have some); without any, the one with
 * more rules; ties go to nft, the default of current distributions. Undefined when there is no candidate.
 */
export function chooseBackend(candidates: readonly BackendCandidate[]): BackendChoice | undefined {
  if (candidates.length === 0) return undefined;
  const rank = (candidate: BackendCandidate): [number, number, number] => [
    candidate.summary.kubeChains,
    candidate.summary.rules,
    candidate.backend === 'nft' ? 1 : 0,
  ];
  const sorted = [...candidates].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    return rb[0] - ra[0] || rb[1] - ra[1] || rb[2] - ra[2];
  });
  const primary = sorted[0]!.backend;
  const alsoKept = sorted.slice(1).filter((candidate) => candidate.summary.rules > 0 || candidate.summary.kubeChains > 0);
  return { primary, alsoKept: alsoKept.map((candidate) => candidate.backend) };
}
