/**
 * Assembles a generated snapshot: the cluster model rendered into the files of DESIGN.md's snapshot
 * folder for one kube-proxy mode, plus the meta.json a collector would write. Writing to disk lives
 * in writeSnapshot.ts so this stays usable from tests without touching the file system.
 */

import { generateCluster, type ClusterOptions, type GeneratedCluster } from './cluster';
import { renderIptablesMode } from './iptablesMode';
import { ipvsBoundAddresses, renderIpset, renderIpvsadm, renderIpvsIptables } from './ipvsMode';
import { renderNftablesMode } from './nftablesMode';
import { renderRouteLocal } from './routeLocal';
import { SAVE_TIME } from './iptablesText';

export type GeneratorMode = 'iptables' | 'ipvs' | 'nftables';

export interface SnapshotOptions extends ClusterOptions {
  mode: GeneratorMode;
}

export interface GeneratedSnapshot {
  cluster: GeneratedCluster;
  /** Snapshot file name → content. */
  files: Record<string, string>;
}

const COMMANDS: Record<string, string[]> = {
  'iptables-save.txt': ['iptables-save'],
  'ipvsadm.txt': ['ipvsadm', '-Ln'],
  'ipset.txt': ['ipset', '-L'],
  'route-local.txt': ['ip', 'route', 'show', 'table', 'local'],
  'nft.txt': ['nft', 'list', 'ruleset'],
};

export function generateSnapshot(options: SnapshotOptions): GeneratedSnapshot {
  const cluster = generateCluster(options);
  const files: Record<string, string> = {};
  if (options.mode === 'iptables') {
    files['iptables-save.txt'] = renderIptablesMode(cluster);
    files['route-local.txt'] = renderRouteLocal(cluster);
  } else if (options.mode === 'nftables') {
    files['nft.txt'] = renderNftablesMode(cluster);
    files['route-local.txt'] = renderRouteLocal(cluster);
  } else {
    files['iptables-save.txt'] = renderIpvsIptables(cluster);
    files['ipvsadm.txt'] = renderIpvsadm(cluster);
    files['ipset.txt'] = renderIpset(cluster);
    files['route-local.txt'] = renderRouteLocal(cluster, ipvsBoundAddresses(cluster));
  }
  const commands: Record<string, unknown> = {};
  for (const [file, text] of Object.entries(files)) {
    commands[file] = { argv: COMMANDS[file], exitCode: 0, stderr: '', bytes: Buffer.byteLength(text), milliseconds: 0 };
  }
  const meta = {
    node: cluster.node.name,
    address: cluster.node.ip,
    time: new Date(`${SAVE_TIME} UTC`).toISOString(),
    commands,
    generator: {
      tool: 'npm run gen',
      mode: options.mode,
      services: options.services,
      endpoints: options.endpoints,
      seed: options.seed,
      totalEndpoints: cluster.totalEndpoints,
    },
  };
  files['meta.json'] = JSON.stringify(meta, null, 2) + '\n';
  return { cluster, files };
}
