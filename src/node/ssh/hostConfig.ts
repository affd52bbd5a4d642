/**
 * Resolves what the user typed (`node1`, `admin@10.0.0.5`) into connection settings the way OpenSSH does:
 * command-line options first, then the first value found in `~/.ssh/config` (Include files inlined, parsed by the
 * ssh-config package, `Match exec` never evaluated), then defaults. ProxyJump hops are resolved through the same
 * config. Connecting lives in sshConnection.ts; this module only computes settings.
 */

import { readFile, readdir } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';

export type HostKeyPolicy = 'ask' | 'yes' | 'accept-new';

export interface ResolvedHost {
  /** The name as the user gave it (the `Host` pattern that was matched). */
  readonly alias: string;
  /** Where to connect: HostName from the config, or the alias itself. */
  readonly hostName: string;
  readonly port: number;
  readonly user: string;
  /** Identity files to try, `~` and `%` tokens expanded, command-line ones first. */
  readonly identityFiles: string[];
  /** True when the files came only from defaults (missing ones are skipped silently, as OpenSSH does). */
  readonly identityFilesAreDefaults: boolean;
  readonly identitiesOnly: boolean;
  /** The agent socket: IdentityAgent from the config, else SSH_AUTH_SOCK; undefined means no agent. */
  readonly agentSocket: string | undefined;
  /** Hops to go through first, outermost first (ProxyJump or --jump). */
  readonly jumps: ResolvedHost[];
  readonly serverAliveIntervalSeconds: number;
  readonly serverAliveCountMax: number;
  readonly connectTimeoutSeconds: number | undefined;
  /** The name looked up in known_hosts (HostKeyAlias, else hostName). */
  readonly hostKeyName: string;
  readonly userKnownHostsFiles: string[];
  readonly globalKnownHostsFiles: string[];
  readonly hashKnownHosts: boolean;
  readonly hostKeyPolicy: HostKeyPolicy;
  readonly passwordAuthentication: boolean;
  readonly keyboardInteractiveAuthentication: boolean;
  readonly pubkeyAuthentication: boolean;
}

/** Command-line options; each wins over the config file. */
export interface HostOverrides {
  readonly user?: string;
  readonly port?: number;
  readonly identityFile?: string;
  /** ProxyJump syntax: `[user@]host[:port][,…]`, or `none`. */
  readonly jump?: string;
}

export interface ResolveContext {
  /** The text of `~/.ssh/config`, or undefined when there is none. */
  readonly configText: string | undefined;
  readonly homeDir: string;
  readonly localUser: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** On Windows the OpenSSH agent listens on a fixed named pipe when SSH_AUTH_SOCK is unset. */
  readonly platform?: NodeJS.Platform;
}

/** Thrown for settings that cannot be honoured (bad port, ProxyCommand, jump loops). */
export class HostConfigError extends Error {}

const MAX_JUMPS = 8;
const WINDOWS_AGENT_PIPE = '\\\\.\\pipe\\openssh-ssh-agent';
const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];

/** The context of the current process: the real `~/.ssh/config`, home folder, user and environment. */
export async function loadResolveContext(): Promise<ResolveContext> {
  const homeDir = homedir();
  const configText = await readSshConfig(join(homeDir, '.ssh', 'config'), homeDir);
  return { configText, homeDir, localUser: userInfo().username, env: process.env, platform: process.platform };
}

const MAX_INCLUDE_DEPTH = 16;
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * Reads an ssh config file with its `Include` directives inlined where they stand (relative paths are under
 * ~/.ssh, `*` and `?` in the last path component are expanded in sorted order, 16 levels at most, as OpenSSH
 * does). The ssh-config package parses Include but does not follow it. Undefined when the file is missing.
 */
export async function readSshConfig(path: string, homeDir: string, depth = 0): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  if (text.length > MAX_CONFIG_BYTES) throw new HostConfigError(`${path} is larger than ${MAX_CONFIG_BYTES} bytes; is it an ssh config?`);
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const include = /^\s*include(?:\s+|\s*=\s*)(.+?)\s*$/i.exec(line);
    if (!include) {
      lines.push(line);
      continue;
    }
    if (depth >= MAX_INCLUDE_DEPTH) throw new HostConfigError(`${path}: Include nests more than ${MAX_INCLUDE_DEPTH} levels.`);
    for (const pattern of include[1]!.split(/\s+/).map((word) => word.replace(/^"(.*)"$/, '$1'))) {
      for (const file of await expandIncludePattern(pattern, homeDir)) {
        const included = await readSshConfig(file, homeDir, depth + 1);
        if (included !== undefined) lines.push(included);
      }
    }
  }
  return lines.join('\n');
}

async function expandIncludePattern(pattern: string, homeDir: string): Promise<string[]> {
  let path = pattern.startsWith('~/') ? join(homeDir, pattern.slice(2)) : pattern;
  if (!isAbsolute(path)) path = join(homeDir, '.ssh', path);
  const folder = dirname(path);
  const last = basename(path);
  if (!/[*?]/.test(last)) return [path];
  const matcher = new RegExp(`^${last.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const names = await readdir(folder).catch(() => [] as string[]);
  return names
    .filter((name) => matcher.test(name) && !name.startsWith('.'))
    .sort()
    .map((name) => join(folder, name));
}

/** Resolves `target` (`host` or `user@host`) with the overrides; jump hops are resolved recursively. */
export function resolveHost(target: string, overrides: HostOverrides, context: ResolveContext): ResolvedHost {
  const config = context.configText === undefined ? undefined : SSHConfig.parse(context.configText);
  return resolveOne(target, overrides, context, config, 0);
}

function resolveOne(
  target: string,
  overrides: HostOverrides,
  context: ResolveContext,
  config: SSHConfig | undefined,
  depth: number,
): ResolvedHost {
  if (depth > MAX_JUMPS) throw new HostConfigError(`ProxyJump nests more than ${MAX_JUMPS} hops; is there a loop?`);
  const { user: targetUser, host: alias } = splitUserHost(target);
  if (!alias || /[\s\0]/.test(alias)) throw new HostConfigError(`"${target}" is not a host name.`);
  const settings = config ? config.compute(alias, { ignoreCase: true, matchExec: false }) : {};
  const get = (name: string): string | undefined => {
    const value = settings[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const getAll = (name: string): string[] => {
    const value = settings[name];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  };

  if (get('proxycommand') !== undefined && get('proxycommand')!.toLowerCase() !== 'none' && overrides.jump === undefined) {
    throw new HostConfigError(`~/.ssh/config sets ProxyCommand for ${alias}, which is not supported; use ProxyJump instead.`);
  }

  const hostName = expandTokens(get('hostname') ?? alias, { h: alias, n: alias }, context);
  const user = overrides.user ?? targetUser ?? get('user') ?? context.localUser;
  const port = overrides.port ?? parsePort(get('port') ?? '22', alias);
  const tokens = { h: hostName, n: alias, r: user, p: String(port) };

  const configured = getAll('identityfile');
  const identityFilesAreDefaults = overrides.identityFile === undefined && configured.length === 0;
  const identitySources = identityFilesAreDefaults
    ? DEFAULT_IDENTITY_FILES
    : [...(overrides.identityFile !== undefined ? [overrides.identityFile] : []), ...configured];
  const identityFiles = [...new Set(identitySources.map((file) => expandTokens(file, tokens, context)))];

  const identityAgent = get('identityagent');
  let agentSocket: string | undefined;
  if (identityAgent === undefined || identityAgent === 'SSH_AUTH_SOCK') {
    agentSocket = context.env.SSH_AUTH_SOCK || (context.platform === 'win32' ? WINDOWS_AGENT_PIPE : undefined);
  }
  else if (identityAgent.toLowerCase() === 'none') agentSocket = undefined;
  else if (identityAgent.startsWith('$')) agentSocket = context.env[identityAgent.slice(1)] || undefined;
  else agentSocket = expandTokens(identityAgent, tokens, context);

  const jumpSpec = overrides.jump ?? get('proxyjump');
  const jumps: ResolvedHost[] = [];
  if (jumpSpec !== undefined && jumpSpec.toLowerCase() !== 'none') {
    for (const hop of jumpSpec.split(',')) {
      const { target: hopTarget, port: hopPort } = splitJumpHop(hop.trim());
      const resolved = resolveOne(hopTarget, { port: hopPort }, context, config, depth + 1);
      // A hop's own ProxyJump comes before it, as OpenSSH chains them.
      jumps.push(...resolved.jumps, { ...resolved, jumps: [] });
    }
    if (jumps.length > MAX_JUMPS) throw new HostConfigError(`ProxyJump nests more than ${MAX_JUMPS} hops; is there a loop?`);
  }

  const userKnownHosts = getAll('userknownhostsfile').flatMap((value) => value.split(/\s+/)).filter(Boolean);
  const globalKnownHosts = getAll('globalknownhostsfile').flatMap((value) => value.split(/\s+/)).filter(Boolean);
  const strict = (get('stricthostkeychecking') ?? 'ask').toLowerCase();

  return {
    alias,
    hostName,
    port,
    user,
    identityFiles,
    identityFilesAreDefaults,
    identitiesOnly: isYes(get('identitiesonly'), false),
    agentSocket,
    jumps,
    serverAliveIntervalSeconds: parseNumber(get('serveraliveinterval'), 0),
    serverAliveCountMax: parseNumber(get('serveralivecountmax'), 3),
    connectTimeoutSeconds: get('connecttimeout') === undefined ? undefined : parseNumber(get('connecttimeout'), 0) || undefined,
    hostKeyName: get('hostkeyalias') ?? hostName,
    userKnownHostsFiles: (userKnownHosts.length > 0 ? userKnownHosts : ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'])
      .filter((file) => file.toLowerCase() !== 'none')
      .map((file) => expandTokens(file, tokens, context)),
    globalKnownHostsFiles: (globalKnownHosts.length > 0
      ? globalKnownHosts
      : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']
    ).filter((file) => file.toLowerCase() !== 'none'),
    hashKnownHosts: isYes(get('hashknownhosts'), false),
    // `no`/`off` would accept any key silently; Kube Netpath keeps asking instead (see DESIGN.md, security).
    hostKeyPolicy: strict === 'yes' ? 'yes' : strict === 'accept-new' ? 'accept-new' : 'ask',
    passwordAuthentication: isYes(get('passwordauthentication'), true),
    keyboardInteractiveAuthentication: isYes(
      get('kbdinteractiveauthentication') ?? get('challengeresponseauthentication'),
      true,
    ),
    pubkeyAuthentication: isYes(get('pubkeyauthentication'), true),
  };
}

function splitUserHost(target: string): { user: string | undefined; host: string } {
  const at = target.lastIndexOf('@');
  if (at < 0) return { user: undefined, host: target };
  return { user: target.slice(0, at) || undefined, host: target.slice(at + 1) };
}

/** One ProxyJump hop: `[user@]host[:port]`, where an IPv6 host is written `[addr]:port`. */
function splitJumpHop(hop: string): { target: string; port: number | undefined } {
  const at = hop.lastIndexOf('@');
  const userPart = at >= 0 ? hop.slice(0, at + 1) : '';
  const hostPart = at >= 0 ? hop.slice(at + 1) : hop;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPart);
  if (bracketed) return { target: userPart + bracketed[1], port: bracketed[2] ? parsePort(bracketed[2], hop) : undefined };
  const colon = hostPart.indexOf(':');
  if (colon >= 0 && hostPart.indexOf(':', colon + 1) < 0) {
    return { target: userPart + hostPart.slice(0, colon), port: parsePort(hostPart.slice(colon + 1), hop) };
  }
  return { target: hop, port: undefined };
}

function parsePort(text: string, where: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new HostConfigError(`Port "${text}" for ${where} is not a port number.`);
  return port;
}

function parseNumber(text: string | undefined, fallback: number): number {
  if (text === undefined || !/^\d+$/.test(text)) return fallback;
  return Number(text);
}

function isYes(text: string | undefined, fallback: boolean): boolean {
  if (text === undefined) return fallback;
  return ['yes', 'true'].includes(text.toLowerCase());
}

/** Expands `~` and the ssh_config tokens %d %u %h %n %r %p %%; unknown tokens are left as written. */
function expandTokens(value: string, tokens: Record<string, string>, context: ResolveContext): string {
  const all: Record<string, string> = { d: context.homeDir, u: context.localUser, '%': '%', ...tokens };
  let expanded = value.replace(/%(.)/g, (match, token: string) => all[token] ?? match);
  if (expanded === '~') expanded = context.homeDir;
  else if (expanded.startsWith('~/')) expanded = join(context.homeDir, expanded.slice(2));
  return expanded;
}
