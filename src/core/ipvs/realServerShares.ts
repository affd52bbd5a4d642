/**
 * The share of new connections each real server of a virtual server receives, from its scheduler and
 * weights, as the kernel's IPVS schedulers behave in the long run over many connections and clients.
 * A weight of 0 takes no new connections under every scheduler (kube-proxy sets it while draining).
 * Also holds the one-sentence assumption a trace should state for a scheduler whose choice is not random.
 */

import type { RealServer, VirtualServer } from './model';

export interface RealServerShare {
  server: RealServer;
  /** 0..1; the shares of one virtual server sum to 1 unless no real server can take connections. */
  share: number;
}

/**
 * Schedulers whose long-run split follows the weights:
 * - wrr sends weight-proportional runs of connections;
 * - wlc, sed pick the least (connections / weight); in a steady state with equal connection lengths that
 *   balances connections in proportion to weight, so the weight ratio is used as an approximation;
 * - sh, mh fill their hash tables with each server in proportion to its weight, so over many client
 *   addresses the split follows weight.
 * The others (rr, lc, nq, lblc, lblcr, dh, twos, unknown) treat every server with weight > 0 alike.
 */
const WEIGHTED = new Set(['wrr', 'wlc', 'sed', 'sh', 'mh']);

/** Weight when the listing has none (`--stats`, `--rate`): every server counts as weight 1. */
function weightOf(server: RealServer): number {
  return server.weight ?? 1;
}

/** One entry per real server, in listing order; servers that take no new connections get share 0. */
export function realServerShares(vs: VirtualServer): RealServerShare[] {
  const servers = vs.realServers;
  const eligible = servers.filter((server) => weightOf(server) > 0);
  if (eligible.length === 0) return servers.map((server) => ({ server, share: 0 }));

  if (vs.scheduler === 'fo' || vs.scheduler === 'ovf') {
    // Weighted failover sends everything to the server with the highest weight (overflow does so until that
    // server's active connections exceed its weight); ties are split, since the kernel's pick among equal
    // weights depends on list order the listing may not preserve.
    const top = Math.max(...eligible.map(weightOf));
    const winners = eligible.filter((server) => weightOf(server) === top).length;
    return servers.map((server) => ({ server, share: weightOf(server) === top ? 1 / winners : 0 }));
  }

  if (WEIGHTED.has(vs.scheduler)) {
    const total = eligible.reduce((sum, server) => sum + weightOf(server), 0);
    return servers.map((server) => ({ server, share: weightOf(server) > 0 ? weightOf(server) / total : 0 }));
  }

  return servers.map((server) => ({ server, share: weightOf(server) > 0 ? 1 / eligible.length : 0 }));
}

/**
 * What a trace must assume for this virtual server's split to hold, or undefined when the shares are the
 * scheduler's exact long-run behaviour (rr, wrr).
 */
export function schedulerAssumption(vs: VirtualServer): string | undefined {
  const notes: string[] = [];
  switch (vs.scheduler) {
    case 'rr': case 'wrr': break;
    case 'wlc': case 'sed':
      notes.push(`${vs.scheduler} picks the real server with the fewest connections per weight; shares assume a steady state with equal connection lengths`);
      break;
    case 'lc': case 'nq': case 'twos':
      notes.push(`${vs.scheduler} picks by current connection counts; shares assume a steady state where the real servers are equally loaded`);
      break;
    case 'sh': case 'mh':
      notes.push(`${vs.scheduler} hashes the client address, so one client always reaches the same real server; shares are over many clients`);
      if (vs.scheduler === 'sh' && vs.realServers.some((server) => server.weight === 0) && !vs.flags.some((flag) => flag.includes('sh-fallback'))) {
        // ip_vs_sh_reassign gives a weight-0 server one hash bucket, and ip_vs_sh_get refuses clients that land on it.
        notes.push('sh still keeps one hash bucket for each real server with weight 0, so the few clients hashing there are refused unless the service has the sh-fallback flag');
      }
      break;
    case 'dh': case 'lblc': case 'lblcr':
      notes.push(`${vs.scheduler} chooses by destination address, so in practice one real server may take all traffic for this virtual server; equal shares are shown`);
      break;
    case 'fo': case 'ovf':
      notes.push(`${vs.scheduler} sends new connections to the highest-weight real server`);
      break;
    case '':
      notes.push('the IPVS listing shows no scheduler or weights (--stats or --rate form); equal shares among real servers are assumed');
      break;
    default:
      notes.push(`unknown scheduler "${vs.scheduler}"; equal shares among real servers with weight > 0 are assumed`);
  }
  if (vs.persistentSeconds !== undefined) {
    notes.push(`persistent ${vs.persistentSeconds}: a client's first connection is scheduled as shown, later ones within ${vs.persistentSeconds}s reuse the same real server`);
  }
  return notes.length > 0 ? notes.join('; ') : undefined;
}
