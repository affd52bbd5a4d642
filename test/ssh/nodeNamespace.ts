/**
 * A network namespace that stands in for a Kubernetes node in the SSH tests: a node address on eth0 (one end of a veth pair),
 * kube-proxy's iptables-mode rules (fixtures/kube-proxy-node.rules: a ClusterIP Service with two endpoints and
 * a NodePort) loaded with iptables-restore, and an ipset. Named `npssh-node-<pid>` so parallel runs and other
 * engineers' namespaces never collide.
 */

import { execFile, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const NODE_IP = '192.168.50.10';

export interface NodeNamespace {
  readonly name: string;
  /** True when the legacy rule was asked for and the kernel took it (legacy ip_tables may be missing). */
  readonly hasLegacyRule: boolean;
  /** Runs argv inside the namespace and returns stdout (the reference the collected files must equal). */
  exec(argv: readonly string[]): Promise<string>;
  remove(): Promise<void>;
}

export interface NodeNamespaceOptions {
  /** Which iptables backend kube-proxy's rules are restored into (nft, the default of current distributions). */
  readonly backend?: 'nft' | 'legacy';
  /** Also try to put one unrelated rule into the legacy backend, so both backends hold rules. */
  readonly legacyRule?: boolean;
  /** Appended to the name, for a second namespace in the same run. */
  readonly suffix?: string;
}

export async function createNodeNamespace(options: NodeNamespaceOptions = {}): Promise<NodeNamespace> {
  const name = `npssh-node-${process.pid}${options.suffix ? `-${options.suffix}` : ''}`;
  await run('ip', ['netns', 'del', name]).catch(() => undefined);
  await run('ip', ['netns', 'add', name]);
  const exec = async (argv: readonly string[]): Promise<string> =>
    (await run('ip', ['netns', 'exec', name, ...argv], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  const shell = (script: string): Promise<string> => exec(['sh', '-ec', script]);
  let hasLegacyRule = false;
  try {
    await shell(
      [
        // No IPv6: link-local addresses change state (tentative → valid) between two reads of `ip addr`.
        'sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1',
        'ip link set lo up',
        // A veth pair with both ends inside (the dummy driver is not available everywhere).
        'ip link add eth0 type veth peer name eth0peer',
        `ip addr add ${NODE_IP}/24 dev eth0`,
        'ip link set eth0peer up',
        'ip link set eth0 up',
        'ip route add default via 192.168.50.1',
      ].join('\n'),
    );
    const rules = await readFile(join(__dirname, 'fixtures', 'kube-proxy-node.rules'), 'utf8');
    await new Promise<void>((resolve, reject) => {
      const restore = options.backend === 'legacy' ? 'iptables-legacy-restore' : 'iptables-nft-restore';
      const child = execFile('ip', ['netns', 'exec', name, restore], (error) => (error ? reject(error) : resolve()));
      child.stdin!.end(rules);
    });
    if (options.legacyRule) {
      hasLegacyRule = await exec(['iptables-legacy', '-A', 'INPUT', '-s', '198.51.100.0/24', '-j', 'DROP']).then(
        () => true,
        () => false,
      );
    }
    await shell(
      [
        'ipset create KUBE-LOOP-BACK hash:ip,port,ip',
        'ipset add KUBE-LOOP-BACK 10.244.1.5,tcp:8080,10.244.1.5',
        'ipset add KUBE-LOOP-BACK 10.244.2.6,tcp:8080,10.244.2.6',
      ].join('\n'),
    );
  } catch (error) {
    await run('ip', ['netns', 'del', name]).catch(() => undefined);
    throw error;
  }
  return {
    name,
    hasLegacyRule,
    exec,
    async remove() {
      // Legacy tables and ipsets live in the namespace and go with it.
      await run('ip', ['netns', 'del', name]).catch(() => undefined);
    },
  };
}

/** Why kernel-backed SSH tests cannot run, or undefined. */
export function namespaceSkipReason(): string | undefined {
  for (const tool of ['ip', 'iptables-nft-restore', 'iptables-legacy-restore', 'iptables-save', 'iptables-legacy', 'ipset', 'nft']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

/** iptables-save output without its `#` lines, which carry the time of the save. */
export function withoutComments(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
}
