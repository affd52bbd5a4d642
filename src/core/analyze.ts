/**
 * Turns a snapshot's texts into everything the tools show: parsed files, the detected dataplane mode, and the
 * Service tree. Mode detection reads content, never just the file list. Tracing (tracePacket.ts) works on
 * the Analysis this returns, so a snapshot is parsed and indexed once however many packets are traced.
 */

import type { Diagnostic, ParseResult } from './diagnostics';
import type { Ruleset } from './iptables/model';
import { parseIptablesSave } from './iptables/parseIptablesSave';
import type { IpsetCollection } from './ipset/model';
import { parseIpset } from './ipset/parseIpset';
import type { IpvsTable } from './ipvs/model';
import { parseIpvsadm } from './ipvs/parseIpvsadm';
import type { NftRuleset } from './nft/model';
import { parseNft } from './nft/parseNft';
import { isKubeProxyTable } from './nft/vocabulary';
import { parseRouteLocal, parseRouteMain, type LocalRoutes, type MainRoutes } from './routes/localRoutes';
import { buildIptablesServiceTree } from './services/iptablesServiceTree';
import { buildIpvsServiceTree } from './services/ipvsServiceTree';
import { buildNftServiceTree } from './services/nftServiceTree';
import type { ServiceTree } from './services/model';
import type { Snapshot, SnapshotFileName } from './snapshot';
import { prepareChainIndex } from './trace/chainIndex';
import type { DataplaneMode } from './trace/result';

export interface Analysis {
  readonly snapshot: Snapshot;
  readonly mode: DataplaneMode | 'none';
  /** One sentence on why this mode was chosen. */
  readonly modeReason: string;
  readonly iptables?: Ruleset;
  readonly routes?: LocalRoutes;
  readonly mainRoutes?: MainRoutes;
  readonly ipvs?: IpvsTable;
  readonly ipsets?: IpsetCollection;
  readonly nft?: NftRuleset;
  readonly services: ServiceTree;
  readonly diagnostics: Diagnostic[];
}

function hasKubeServiceChains(ruleset: Ruleset | undefined): boolean {
  const nat = ruleset?.tables.get('nat');
  if (!nat) return false;
  for (const name of nat.chains.keys()) if (name.startsWith('KUBE-SVC-') || name.startsWith('KUBE-SEP-')) return true;
  return false;
}

function usesIpvsSets(ruleset: Ruleset | undefined): boolean {
  const services = ruleset?.tables.get('nat')?.chains.get('KUBE-SERVICES');
  return Boolean(services?.rules.some((rule) => rule.raw.includes('KUBE-CLUSTER-IP')));
}

function kubeProxyNftChains(nft: NftRuleset | undefined): number {
  let count = 0;
  for (const table of nft?.tables ?? []) {
    if (isKubeProxyTable(table)) count += table.chains.length;
  }
  return count;
}

function detectMode(
  iptables: Ruleset | undefined,
  ipvs: IpvsTable | undefined,
  routes: LocalRoutes | undefined,
  nft: NftRuleset | undefined,
): { mode: DataplaneMode | 'none'; reason: string } {
  const nftChains = kubeProxyNftChains(nft);
  if (nftChains > 0 && !hasKubeServiceChains(iptables)) {
    return { mode: 'nftables', reason: `nft.txt holds kube-proxy's table (${nftChains} chains) and the nat table has no KUBE-SVC- chains.` };
  }
  const boundToIpvs = routes?.entries.some((entry) => entry.device === 'kube-ipvs0') ?? false;
  if (ipvs && ipvs.virtualServers.length > 0 && (usesIpvsSets(iptables) || boundToIpvs)) {
    return { mode: 'ipvs', reason: `ipvsadm.txt lists ${ipvs.virtualServers.length} virtual services and kube-proxy's IPVS rules or kube-ipvs0 addresses are present.` };
  }
  if (hasKubeServiceChains(iptables)) {
    return { mode: 'iptables', reason: 'the nat table holds kube-proxy\'s KUBE-SVC-/KUBE-SEP- chains.' };
  }
  if (usesIpvsSets(iptables) || boundToIpvs) {
    return { mode: 'ipvs', reason: 'kube-proxy\'s IPVS ipset rules or kube-ipvs0 addresses are present, though ipvsadm.txt has no virtual services.' };
  }
  if (iptables?.tables.get('nat')?.chains.has('KUBE-SERVICES')) {
    return { mode: 'iptables', reason: 'the nat table holds KUBE-SERVICES but no Service chains (a cluster without Services with endpoints, or a cut dump).' };
  }
  return { mode: 'none', reason: 'no kube-proxy rules were found: kube-proxy is not the dataplane on this node (or its rules were not collected).' };
}

/** Indexes the long chains up front, so the first trace is as fast as the next. */
function prepareIndexes(ruleset: Ruleset): void {
  for (const [tableName, chainName] of [
    ['nat', 'KUBE-SERVICES'],
    ['nat', 'KUBE-NODEPORTS'],
    ['filter', 'KUBE-SERVICES'],
    ['filter', 'KUBE-EXTERNAL-SERVICES'],
    ['filter', 'KUBE-NODEPORTS'],
    ['filter', 'KUBE-PROXY-FIREWALL'],
  ]) {
    const chain = ruleset.tables.get(tableName)?.chains.get(chainName);
    if (chain) prepareChainIndex(chain);
  }
}

export function analyzeSnapshot(snapshot: Snapshot): Analysis {
  const diagnostics: Diagnostic[] = [];
  const files = snapshot.files;
  // Parsers must not throw; should one still do so, its file is left out with an error instead of the analysis failing.
  const parse = <T>(name: SnapshotFileName, parser: (text: string) => ParseResult<T>): T | undefined => {
    const text = files[name];
    if (text === undefined) return undefined;
    try {
      const result = parser(text);
      diagnostics.push(...result.diagnostics);
      return result.value;
    } catch (error) {
      const reason = String(error instanceof Error ? error.message : error).slice(0, 200);
      diagnostics.push({ file: name, line: 0, severity: 'error', message: `the file could not be read (the parser failed: ${reason}); it is left out` });
      return undefined;
    }
  };
  const iptables = parse('iptables-save.txt', parseIptablesSave);
  const routes = parse('route-local.txt', parseRouteLocal);
  const mainRoutes = parse('route-main.txt', parseRouteMain);
  const ipvs = parse('ipvsadm.txt', parseIpvsadm);
  const ipsets = parse('ipset.txt', parseIpset);
  const nft = parse('nft.txt', parseNft);
  const { mode, reason } = detectMode(iptables, ipvs, routes, nft);
  const notCollected = (mode === 'nftables' ? (['route-local.txt'] as const) : (['iptables-save.txt', 'route-local.txt'] as const)).filter(
    (name) => files[name] === undefined,
  );
  let services: ServiceTree;
  if (mode === 'iptables' && iptables) {
    services = buildIptablesServiceTree(iptables);
  } else if (mode === 'ipvs' && ipvs) {
    services = buildIpvsServiceTree({ ipvs, ipsets, iptables, routes });
  } else if (mode === 'nftables' && nft) {
    services = buildNftServiceTree(nft, routes);
  } else {
    services = { mode, services: [], warnings: [] };
  }
  if (iptables) prepareIndexes(iptables);
  for (const name of notCollected) {
    services.warnings.push(`${name} was not collected: ${name === 'route-local.txt' ? 'which addresses are local to the node cannot be decided' : 'iptables rules cannot be shown or traced'}.`);
  }
  if (mode === 'none') services.warnings.push(`No kube-proxy dataplane found: ${reason}`);
  for (const other of ['iptables-legacy-save.txt', 'iptables-nft-save.txt'] as const) {
    const text = files[other];
    if (text === undefined) continue;
    const rules = text.split('\n').filter((line) => line.startsWith('-A ')).length;
    if (rules > 0) {
      services.warnings.push(
        `${other} holds ${rules} more rules from the other iptables backend: the kernel applies them as well, but traces follow iptables-save.txt only.`,
      );
    }
  }
  for (const notice of iptables?.notices ?? []) {
    if (/legacy tables present/i.test(notice.text)) {
      services.warnings.push(`iptables-save.txt line ${notice.line}: ${notice.text}. The kernel applies both backends; this dump shows only one.`);
    }
  }
  return { snapshot, mode, modeReason: reason, iptables, routes, mainRoutes, ipvs, ipsets, nft, services, diagnostics };
}
