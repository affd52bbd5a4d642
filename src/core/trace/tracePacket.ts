/**
 * The one entry point for tracing: picks the tracer for the snapshot's dataplane mode and wires the parsed
 * files into it (local routes, ipsets, IPVS lookups).
 */

import type { Analysis } from '../analyze';
import { ipsetMatch } from '../ipset/ipsetMatch';
import { lookupVirtualServer } from '../ipvs/lookupVirtualServer';
import { realServerShares, schedulerAssumption } from '../ipvs/realServerShares';
import { lookupIpvsName } from '../ipvs/vocabulary';
import { traceNft } from '../nft/traceNft';
import { serviceIndexOf } from '../services/serviceIndex';
import type { IpvsLookup } from './ipvsStep';
import type { Packet, TraceResult } from './result';
import { traceIptables } from './traceIptables';

function ipvsLookupOf(analysis: Analysis): IpvsLookup | undefined {
  const table = analysis.ipvs;
  if (!table) return undefined;
  return (proto, ip, port) => {
    const server = lookupVirtualServer(table, proto, ip, port);
    if (!server) return undefined;
    return {
      raw: server.raw.trim(),
      line: server.line,
      scheduler: server.scheduler,
      persistentSeconds: server.persistentSeconds,
      assumption: schedulerAssumption(server),
      choices: realServerShares(server).map(({ server: real, share }) => ({
        ip: real.address,
        port: real.port,
        share,
        forward: real.forward || 'Masq',
        weight: real.weight ?? 1,
        line: real.line,
        raw: real.raw,
      })),
    };
  };
}

/** The Service a packet is addressed to, by the Service tree's addresses (for traces that found no name in the rules). */
function serviceAddressedBy(analysis: Analysis, packet: Packet): string | null {
  const index = serviceIndexOf(analysis.services);
  const byAddress = index.byAddress(packet.proto, packet.dst, packet.dport);
  if (byAddress) return byAddress.id;
  const local = analysis.routes?.isLocal(packet.dst) ?? false;
  return local ? (index.byNodePort(packet.proto, packet.dport)?.id ?? null) : null;
}

export function tracePacket(analysis: Analysis, packet: Packet): TraceResult {
  const result = traceForMode(analysis, packet);
  result.service ??= serviceAddressedBy(analysis, packet);
  return result;
}

function traceForMode(analysis: Analysis, packet: Packet): TraceResult {
  if (analysis.mode === 'nftables' && analysis.nft) {
    const entry = analysis.routes?.isLocal(packet.src) ? 'OUTPUT' : 'PREROUTING';
    return traceNft({ nft: analysis.nft, routes: analysis.routes, file: 'nft.txt' }, packet, entry);
  }
  const ipsets = analysis.ipsets;
  const services = serviceIndexOf(analysis.services);
  const mode = analysis.mode === 'ipvs' ? 'ipvs' : 'iptables';
  const result = traceIptables(
    {
      mode,
      ruleset: analysis.iptables ?? { file: 'iptables-save.txt', tables: new Map(), notices: [] },
      routes: analysis.routes,
      mainRoutes: analysis.mainRoutes,
      ipsetMatch: ipsets
        ? (name, directions, state) => {
            const set = ipsets.get(name);
            return set ? ipsetMatch(set, directions, state) : undefined;
          }
        : undefined,
      ipvs: ipvsLookupOf(analysis),
      serviceOfChain: (chain) => services.byChain(chain)?.id,
      describeChain:
        mode === 'ipvs'
          ? (chain) => {
              const found = lookupIpvsName(chain, 'chain');
              return found?.kind === 'chain' ? found.term.explanation : undefined;
            }
          : undefined,
    },
    packet,
  );
  if (!analysis.iptables) result.warnings.unshift('iptables-save.txt was not collected: no rules could be traced.');
  if (analysis.mode === 'none') result.warnings.unshift(`No kube-proxy dataplane was found on this node: ${analysis.modeReason}`);
  return result;
}
