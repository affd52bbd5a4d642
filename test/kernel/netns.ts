// The network-namespace harness of the kernel agreement tests: it builds a small Kubernetes node out of
// namespaces (a node, an outside client, three local pods and one pod that stands for another node's pod),
// runs an agent in each (nsAgent.mjs: TCP server in pods, prober everywhere), loads rulesets into the node,
// flushes conntrack, and takes a snapshot folder from the node. It knows nothing of kube-proxy's rules or
// of netpath: the rulesets live beside it and the comparisons in the tests.
//
// Every namespace is named `npk<pid>x<n>-<role>`, so parallel runs never collide, and only addresses inside
// these namespaces are ever used. Nothing here touches the host's own namespace.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const agentScript = join(dirname(fileURLToPath(import.meta.url)), 'nsAgent.mjs');

/** Addresses of the simulated node; they match the rulesets in test/kernel/rulesets. */
export const nodeIp = '192.168.50.10';
export const clientIp = '192.168.50.20';
/** The node's address on every pod-facing veth (what masquerade towards a pod picks). */
export const podGatewayIp = '10.244.1.1';
export const podPort = 8080;

export interface PodSpec {
  name: string;
  ip: string;
  /** False for the pod that stands for another node's pod (reached through the node, not local to it). */
  local: boolean;
}

export const pods: readonly PodSpec[] = [
  { name: 'pod-a', ip: '10.244.1.11', local: true },
  { name: 'pod-b', ip: '10.244.1.12', local: true },
  { name: 'pod-c', ip: '10.244.1.13', local: true },
  { name: 'remote', ip: '10.244.2.5', local: false },
];

/** Where a probe starts: the outside client, the node itself, or one of the pods. */
export type Origin = 'client' | 'node' | string;

export type ConnectionResult =
  | { outcome: 'answered'; pod: string; peer: string; local: string }
  | { outcome: 'refused' }
  | { outcome: 'timeout' }
  | { outcome: 'error'; code: string };

export interface ProbeRun {
  /** The source address the kernel picks for this destination in the origin namespace (`ip route get`). */
  src: string;
  results: ConnectionResult[];
}

export interface ProbeOptions {
  count: number;
  /** TCP connections (the default) or UDP datagrams from connected sockets. */
  proto?: 'tcp' | 'udp';
  /** How long a TCP handshake may take before the connection counts as dropped. */
  timeoutMs?: number;
  /** How long an answer may take once connected (TCP), or at all (UDP, where it also decides a drop). */
  answerMs?: number;
  concurrency?: number;
}

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

const commandTimeoutMs = 15_000;

/** Runs a program (never through a shell) with a deadline; resolves with its exit code and output. */
export function run(argv: string[], input?: string, timeoutMs = commandTimeoutMs): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(error.message) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

async function must(argv: string[], input?: string): Promise<string> {
  const result = await run(argv, input);
  if (result.code !== 0) {
    throw new Error(`${argv.join(' ')} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}

function onPath(tool: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin'])) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // Not in this directory; try the next one.
    }
  }
  return false;
}

/**
 * Says why the kernel tests cannot run here (not root, a tool missing, namespaces refused), or undefined
 * when they can. Synchronous, so that a test file can pass it to `describe(…, { skip })`.
 */
export function kernelSkipReason(tools: string[]): string | undefined {
  if (process.platform !== 'linux') return 'kernel agreement tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'kernel agreement tests need root (network namespaces, iptables, nft)';
  const missing = ['ip', 'conntrack', ...tools].filter((tool) => !onPath(tool));
  if (missing.length > 0) return `kernel agreement tests need ${missing.join(', ')} (apt-get install iproute2 conntrack iptables nftables)`;
  const trial = `npk${process.pid}t-trial`;
  const added = spawnSync('ip', ['netns', 'add', trial], { encoding: 'utf8', timeout: 10_000 });
  if (added.status !== 0) return `cannot create a network namespace here: ${(added.stderr ?? '').trim()}`;
  spawnSync('ip', ['netns', 'del', trial], { timeout: 10_000 });
  return undefined;
}

let topologyCounter = 0;

/** Namespaces of crashed earlier runs of this harness (their pid is gone) are removed before a new one starts. */
async function removeStaleNamespaces(): Promise<void> {
  const listed = await run(['ip', 'netns', 'list']);
  for (const line of listed.stdout.split('\n')) {
    const match = /^(npk(\d+)[xt]\d*-\S+)/.exec(line.trim());
    if (!match) continue;
    const pid = Number(match[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) await deleteNamespace(match[1]!);
  }
}

async function deleteNamespace(ns: string): Promise<void> {
  const pids = await run(['ip', 'netns', 'pids', ns]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await run(['ip', 'netns', 'del', ns]);
}

/** One agent process inside one namespace, spoken to with JSON lines. */
class Agent {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Record<string, unknown>) => void>();
  private readonly ready: Promise<void>;
  private stderr = '';

  constructor(
    readonly ns: string,
    readonly name: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.stderr.length < 4000) this.stderr += chunk;
    });
    child.stdin.on('error', () => undefined);
    const lines = createInterface({ input: child.stdout });
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent ${name} in ${ns} did not start: ${this.stderr}`)), 10_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`agent ${name} in ${ns} exited (${code}): ${this.stderr}`));
        for (const answer of this.waiting.values()) answer({ error: `agent exited (${code})` });
        this.waiting.clear();
      });
      lines.on('line', (line) => {
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        if ('ready' in message) {
          clearTimeout(timer);
          resolve();
        } else if ('fatal' in message) {
          clearTimeout(timer);
          reject(new Error(`agent ${name} in ${ns}: ${String(message.fatal)}`));
        } else if (typeof message.id === 'number') {
          this.waiting.get(message.id)?.(message);
          this.waiting.delete(message.id);
        }
      });
    });
    // A rejected start is reported by whoever awaits `started()`; this keeps it from being unhandled.
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  started(): Promise<void> {
    return this.ready;
  }

  request(body: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`agent ${this.name} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.stdin.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  stop(): void {
    this.child.stdin.end();
    const pid = this.child.pid;
    setTimeout(() => {
      if (pid !== undefined && this.child.exitCode === null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }, 1000).unref();
  }
}

export class Topology {
  private readonly agents = new Map<Origin, Agent>();
  private readonly namespaces: string[] = [];
  private destroyed = false;
  private readonly exitHandler = (): void => this.destroySync();
  private readonly signalHandler = (signal: NodeJS.Signals): void => {
    this.destroySync();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  private constructor(readonly prefix: string) {
    // Cleanup must happen however the test process ends: normally (destroy), by exit, or by a signal from
    // the test runner; a namespace left behind by SIGKILL is removed by the next run (removeStaleNamespaces).
    process.on('exit', this.exitHandler);
    process.once('SIGINT', this.signalHandler);
    process.once('SIGTERM', this.signalHandler);
  }

  /** The namespace of a role: 'node', 'client', or a pod name. */
  ns(role: Origin): string {
    return `${this.prefix}${role}`;
  }

  get nodeNs(): string {
    return this.ns('node');
  }

  /**
   * Builds the namespaces, links and routes, starts the agents, and returns the topology. On any failure
   * everything made so far is removed before the error is thrown.
   */
  static async create(): Promise<Topology> {
    await removeStaleNamespaces();
    topologyCounter += 1;
    const topology = new Topology(`npk${process.pid}x${topologyCounter}-`);
    try {
      await topology.build();
      return topology;
    } catch (error) {
      await topology.destroy();
      throw error;
    }
  }

  private async addNamespace(role: Origin): Promise<string> {
    const ns = this.ns(role);
    await must(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  private async build(): Promise<void> {
    const node = await this.addNamespace('node');
    // Forwarding for pod and service traffic; no ICMP rate limit (else REJECT looks like DROP); 127.0.0.1
    // NodePorts need route_localnet; reverse-path filtering off so that only the rules decide.
    await must([
      'ip', 'netns', 'exec', node, 'sysctl', '-q', '-w',
      'net.ipv4.ip_forward=1',
      'net.ipv4.icmp_ratelimit=0',
      'net.ipv4.conf.all.route_localnet=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
    ]);

    const client = await this.addNamespace('client');
    await must(['ip', '-n', node, 'link', 'add', 'eth-client', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
    await must(['ip', '-n', node, 'addr', 'add', `${nodeIp}/24`, 'dev', 'eth-client']);
    await must(['ip', '-n', node, 'link', 'set', 'eth-client', 'up']);
    await must(['ip', '-n', client, 'addr', 'add', `${clientIp}/24`, 'dev', 'eth0']);
    await must(['ip', '-n', client, 'link', 'set', 'eth0', 'up']);
    // The client sends service traffic to the node; the node's default gateway is the client, so a
    // packet to an unallocated service IP is forwarded (and reaches filter FORWARD) as on a real node.
    await must(['ip', '-n', client, 'route', 'add', 'default', 'via', nodeIp]);
    await must(['ip', '-n', node, 'route', 'add', 'default', 'via', clientIp]);

    for (const pod of pods) {
      const podNs = await this.addNamespace(pod.name);
      const link = `veth-${pod.name}`;
      await must(['ip', '-n', node, 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', podNs]);
      await must(['ip', '-n', node, 'addr', 'add', `${podGatewayIp}/32`, 'dev', link]);
      await must(['ip', '-n', node, 'link', 'set', link, 'up']);
      const podRoute = pod.local ? `${pod.ip}/32` : pod.ip.replace(/\.\d+$/, '.0/24');
      await must(['ip', '-n', node, 'route', 'add', podRoute, 'dev', link, 'scope', 'link']);
      await must(['ip', '-n', podNs, 'addr', 'add', `${pod.ip}/32`, 'dev', 'eth0']);
      await must(['ip', '-n', podNs, 'link', 'set', 'eth0', 'up']);
      await must(['ip', '-n', podNs, 'route', 'add', podGatewayIp, 'dev', 'eth0', 'scope', 'link']);
      await must(['ip', '-n', podNs, 'route', 'add', 'default', 'via', podGatewayIp, 'dev', 'eth0']);
    }

    this.startAgent('node', []);
    this.startAgent('client', []);
    for (const pod of pods) this.startAgent(pod.name, ['--listen', String(podPort)]);
    await Promise.all([...this.agents.values()].map((agent) => agent.started()));
  }

  private startAgent(role: Origin, extra: string[]): void {
    const ns = this.ns(role);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, agentScript, '--name', role, ...extra], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.agents.set(role, new Agent(ns, role, child));
  }

  /** Runs a program inside the node namespace and returns its stdout; throws with its stderr on failure. */
  inNode(argv: string[], input?: string): Promise<string> {
    return must(['ip', 'netns', 'exec', this.nodeNs, ...argv], input);
  }

  /** Forgets every connection, so that the next connection is NATed afresh. */
  async flushConntrack(): Promise<void> {
    await this.inNode(['conntrack', '-F']);
  }

  /** The source address the kernel picks in the origin's namespace for a destination. */
  async sourceFor(origin: Origin, dst: string): Promise<string> {
    const out = await must(['ip', '-j', '-n', this.ns(origin), 'route', 'get', dst]);
    const routes = JSON.parse(out) as Array<{ prefsrc?: string }>;
    const src = routes[0]?.prefsrc;
    if (!src) throw new Error(`no source address for ${dst} in ${origin}: ${out}`);
    return src;
  }

  /** Opens `count` connections (TCP, or UDP exchanges) from the origin to dst:port after a conntrack flush, and reports each. */
  async probe(origin: Origin, dst: string, port: number, options: ProbeOptions): Promise<ProbeRun> {
    const agent = this.agents.get(origin);
    if (!agent) throw new Error(`no agent for ${origin}`);
    const timeoutMs = options.timeoutMs ?? 2000;
    const answerMs = options.answerMs ?? 8000;
    const concurrency = options.concurrency ?? 6;
    await this.flushConntrack();
    const src = await this.sourceFor(origin, dst);
    const rounds = Math.ceil(options.count / concurrency);
    const reply = await agent.request(
      { op: 'probe', proto: options.proto ?? 'tcp', host: dst, port, count: options.count, concurrency, timeoutMs, answerMs },
      rounds * (timeoutMs + answerMs) + 10_000,
    );
    if (!Array.isArray(reply.results)) throw new Error(`probe from ${origin} failed: ${String(reply.error)}`);
    return { src, results: reply.results as ConnectionResult[] };
  }

  /**
   * Writes the node's dataplane into a snapshot folder as `netpath collect` would: each file is a command's
   * stdout byte for byte, run inside the node namespace (iptables-save.txt and/or nft.txt, route-local.txt,
   * route-main.txt, addr.txt), and meta.json, written last, records each command as the collector does.
   */
  async snapshot(dir: string, what: { iptables?: boolean; nft?: boolean }): Promise<void> {
    const commands: Array<{ id: string; argv: string[]; file: string }> = [
      ...(what.iptables ? [{ id: 'iptables-save', argv: ['iptables-save'], file: 'iptables-save.txt' }] : []),
      ...(what.nft ? [{ id: 'nft list ruleset', argv: ['nft', 'list', 'ruleset'], file: 'nft.txt' }] : []),
      { id: 'ip route show table local', argv: ['ip', 'route', 'show', 'table', 'local'], file: 'route-local.txt' },
      { id: 'ip route show table main', argv: ['ip', 'route', 'show', 'table', 'main'], file: 'route-main.txt' },
      { id: 'ip -o addr show', argv: ['ip', '-o', 'addr', 'show'], file: 'addr.txt' },
    ];
    const records: Record<string, { argv: string[]; exitCode: number; stderr: string; bytes: number; milliseconds: number }> = {};
    for (const command of commands) {
      const started = Date.now();
      const result = await run(['ip', 'netns', 'exec', this.nodeNs, ...command.argv]);
      if (result.code !== 0) throw new Error(`${command.argv.join(' ')} in ${this.nodeNs} failed (${result.code}): ${result.stderr.trim()}`);
      writeFileSync(join(dir, command.file), result.stdout);
      records[command.id] = {
        argv: command.argv,
        exitCode: result.code,
        stderr: result.stderr,
        bytes: Buffer.byteLength(result.stdout),
        milliseconds: Date.now() - started,
      };
    }
    const meta = { node: this.nodeNs, address: nodeIp, time: new Date().toISOString(), collectedBy: 'test/kernel/netns.ts', commands: records };
    writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  }

  /** Stops the agents and removes the namespaces (with any process still inside them). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.exitHandler);
    process.off('SIGINT', this.signalHandler);
    process.off('SIGTERM', this.signalHandler);
    for (const agent of this.agents.values()) agent.stop();
    for (const ns of this.namespaces) await deleteNamespace(ns);
  }

  /** The last resort when the test process exits without `destroy()`: synchronous, best effort. */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const agent of this.agents.values()) {
      try {
        if (agent.pid !== undefined) process.kill(agent.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const ns of this.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
      } catch {
        // Nothing more can be done while exiting.
      }
    }
  }
}
