/**
 * Throwaway network namespaces for running the kernel's own tools on generated files without touching
 * the host's rules. Names carry the prefix `bnch-` and the process id, so parallel runs by other
 * engineers never collide, and every namespace is deleted again in a finally block.
 */

import { spawnSync } from 'node:child_process';

let counter = 0;

/** Why the native tools cannot run here (not root, no `ip`, no iptables-restore), or null when they can. */
export function nativeUnavailableReason(): string | null {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root';
  for (const tool of ['ip', 'iptables-restore', 'iptables-save']) {
    const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { encoding: 'utf8' });
    if (found.status !== 0) return `${tool} is not installed`;
  }
  return null;
}

function run(argv: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const [command = '', ...args] = argv;
  const result = spawnSync(command, args, { encoding: 'utf8', input, maxBuffer: 1 << 30 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Creates a namespace, runs `body` with its name, and deletes the namespace whatever happens. */
export function withNetns<T>(body: (netns: string) => T): T {
  const netns = `bnch-${process.pid}-${counter++}`;
  const created = run(['ip', 'netns', 'add', netns]);
  if (created.status !== 0) throw new Error(`ip netns add ${netns} failed: ${created.stderr.trim()}`);
  try {
    return body(netns);
  } finally {
    run(['ip', 'netns', 'delete', netns]);
  }
}

/** Runs a command inside the namespace, feeding `input` on stdin. */
export function runInNetns(netns: string, argv: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  return run(['ip', 'netns', 'exec', netns, ...argv], input);
}

export interface NativeTiming {
  /** CPU time of the child process in milliseconds, as bash's `times` reports it. */
  userMs: number;
  systemMs: number;
  exitCode: number | null;
  stderr: string;
}

function parseTimes(text: string): number {
  const match = /^(\d+)m([\d.]+)s$/.exec(text);
  return match ? (Number(match[1]) * 60 + Number(match[2])) * 1000 : Number.NaN;
}

/**
 * The CPU time (user + sys) of `iptables-restore --test < file` in the namespace. bash runs the
 * command as its child and `times` then prints the children's CPU time; the file path is passed as an
 * argument, never pasted into the script.
 */
export function timeRestoreTest(netns: string, file: string): NativeTiming {
  const script = 'iptables-restore --test < "$1"; status=$?; times >&3; exit $status';
  const result = spawnSync('ip', ['netns', 'exec', netns, 'bash', '-c', script, 'bash', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 24,
  });
  const timesOutput = String(result.output[3] ?? '').trim().split('\n');
  const [user = '', system = ''] = (timesOutput[1] ?? '').trim().split(/\s+/);
  return { userMs: parseTimes(user), systemMs: parseTimes(system), exitCode: result.status, stderr: String(result.stderr ?? '') };
}
