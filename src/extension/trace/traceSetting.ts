/**
 * Builds what the trace defaults and the panel's Service dropdown need from one analysed snapshot's summary.
 * Pure (no vscode), next to traceDefaults.ts which holds the rules for choosing addresses.
 */

import type { ServiceInfo } from '../../core/services/model';
import type { ServiceChoice } from '../../protocol/traceMessages';
import type { SnapshotSummary } from '../analysis/analysisProtocol';
import { defaultPacket, type TraceSetting } from './traceDefaults';

/** The default outside-client address: TEST-NET-3 from RFC 5737, never a real host. */
export const DEFAULT_OUTSIDE_CLIENT = '203.0.113.10';

export function traceSettingOf(summary: SnapshotSummary, outsideClient = DEFAULT_OUTSIDE_CLIENT): TraceSetting {
  return { routes: summary.routes, clusterCidr: summary.clusterCidr, nodeAddress: summary.address, outsideClient };
}

/** At most this many Services are offered in the panel's dropdown; the palette command searches them all. */
export const MAX_CHOICES = 500;

/** The panel's Service dropdown: each Service with its ClusterIP packet from a pod on this node. */
export function serviceChoices(services: ServiceInfo[], setting: TraceSetting): ServiceChoice[] {
  const choices: ServiceChoice[] = [];
  for (const service of services) {
    if (choices.length >= MAX_CHOICES) break;
    const packet = defaultPacket(service, 'ClusterIP', 'pod-here', setting) ?? defaultPacket(service, 'ClusterIP', 'node', setting);
    if (packet) choices.push({ id: service.id, label: `${service.id} (${service.protocol}) ${packet.dst}:${packet.dport}`, packet });
  }
  return choices;
}

/** The snapshot file a trace step's rule lives in: `ipvs` steps in ipvsadm.txt, nftables in nft.txt. */
export function fileOfTable(mode: SnapshotSummary['mode'], table: string): string {
  if (table === 'ipvs') return 'ipvsadm.txt';
  if (mode === 'nftables') return 'nft.txt';
  return 'iptables-save.txt';
}
