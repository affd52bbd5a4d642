/**
 * Opens one authenticated ssh2 connection to a resolved host, through its ProxyJump hops when it has any.
 * Host keys are checked against known_hosts (the client prefers key types already listed for the host, as
 * OpenSSH does); authentication tries the agent, the identity files (passphrases asked through the Prompter),
 * keyboard-interactive and password, only as far as the server allows them. Running commands lives in
 * sshCommandRunner.ts.
 */

import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Client, utils } from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ParsedKey, ServerHostKeyAlgorithm } from 'ssh2';
import type { ResolvedHost } from './hostConfig';
import {
  appendKnownHost,
  checkHostKey,
  formatKnownHostsLine,
  keyBlobType,
  knownHostsName,
  knownKeyTypes,
  loadKnownHosts,
  sha256Fingerprint,
} from './knownHosts';
import type { Prompter } from './prompter';
import { isTimeout, SshError } from './sshError';

export interface ConnectOptions {
  readonly prompter: Prompter;
  readonly signal?: AbortSignal;
  /** Handshake limit per hop when the config sets no ConnectTimeout; time spent prompting is not counted. */
  readonly connectTimeoutMs?: number;
  /** Progress and skipped-key notes for a log; never receives secrets. */
  readonly log?: (line: string) => void;
}

export interface SshConnection {
  readonly client: Client;
  readonly host: ResolvedHost;
  /** Resolves once the connection (or any hop under it) has closed. */
  readonly closed: Promise<void>;
  close(): void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const MAX_SECRET_ATTEMPTS = 3;

/** ssh2's default host key algorithms, in its order; the ones the host is known by are moved to the front. */
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Connects to `host` through its jump hops; the returned connection is authenticated and ready. */
export async function connectSsh(host: ResolvedHost, options: ConnectOptions): Promise<SshConnection> {
  const chain = [...host.jumps, host];
  const clients: Client[] = [];
  try {
    let sock: Readable | undefined;
    for (const [index, hop] of chain.entries()) {
      if (index > 0) sock = await forwardThrough(clients[index - 1]!, chain[index - 1]!, hop);
      clients.push(await connectHop(hop, sock, options));
    }
  } catch (error) {
    for (const client of clients.reverse()) client.end();
    throw error;
  }
  const client = clients[clients.length - 1]!;
  const closeAll = (): void => {
    for (const each of [...clients].reverse()) each.end();
  };
  const closed = new Promise<void>((resolve) => {
    for (const each of clients) {
      each.once('close', () => {
        closeAll();
        resolve();
      });
    }
  });
  return { client, host, closed, close: closeAll };
}

function describe(hop: ResolvedHost): string {
  return `${hop.user}@${hop.hostName}${hop.port === 22 ? '' : `:${hop.port}`}`;
}

function forwardThrough(jump: Client, jumpHost: ResolvedHost, hop: ResolvedHost): Promise<Readable> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, hop.hostName, hop.port, (error, stream) => {
      if (error) {
        reject(
          new SshError(
            'connect',
            `Jump host ${jumpHost.hostName} could not reach ${hop.hostName}:${hop.port} (${error.message}).`,
          ),
        );
      } else {
        resolve(stream);
      }
    });
  });
}

async function connectHop(hop: ResolvedHost, sock: Readable | undefined, options: ConnectOptions): Promise<Client> {
  const knownHostsFiles = [...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles];
  const entries = await loadKnownHosts(knownHostsFiles);
  const preferredTypes = knownKeyTypes(entries, hop.hostKeyName, hop.port);
  const timeoutMs = hop.connectTimeoutSeconds !== undefined ? hop.connectTimeoutSeconds * 1000 : (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const log = options.log ?? (() => undefined);

  return new Promise<Client>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    /** Set by the host key check or authentication, so the user sees why rather than ssh2's generic error. */
    let failure: SshError | undefined;
    const timer = pausableTimer(timeoutMs, () =>
      fail(new SshError('timeout', `No SSH session with ${describe(hop)} within ${Math.round(timeoutMs / 1000)} s.`)),
    );
    const onAbort = (): void =>
      fail(
        isTimeout(options.signal?.reason)
          ? new SshError('timeout', `No SSH session with ${describe(hop)} in the time allowed.`)
          : new SshError('cancelled', 'The collection was cancelled.'),
      );
    function fail(error: SshError): void {
      if (settled) return;
      settled = true;
      timer.stop();
      options.signal?.removeEventListener('abort', onAbort);
      client.end();
      reject(error);
    }
    async function whilePrompting<T>(ask: () => Promise<T>): Promise<T> {
      timer.pause();
      try {
        return await ask();
      } finally {
        timer.resume();
      }
    }

    if (options.signal?.aborted) {
      reject(new SshError('cancelled', 'The collection was cancelled.'));
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });

    client.on('ready', () => {
      if (settled) return;
      settled = true;
      timer.stop();
      options.signal?.removeEventListener('abort', onAbort);
      resolve(client);
    });
    // The listener stays for the connection's life so a later socket error never becomes an uncaught event.
    client.on('error', (error: Error & { level?: string; code?: string }) => fail(failure ?? mapConnectError(error, hop)));
    client.on('close', () =>
      fail(failure ?? new SshError('disconnected', `${describe(hop)} closed the connection before the session was ready.`)),
    );

    const verifyHostKey = async (key: Buffer): Promise<boolean> => {
      const name = hop.hostKeyName;
      const shown = knownHostsName(name, hop.port);
      const check = checkHostKey(entries, name, hop.port, key);
      const keyType = keyBlobType(key) ?? 'unknown';
      const fingerprint = sha256Fingerprint(key);
      switch (check.status) {
        case 'known':
          return true;
        case 'revoked':
          failure = new SshError(
            'host-key-revoked',
            `The host key of ${shown} (${keyType} ${fingerprint}) is marked @revoked in ${check.file} line ${check.line}; the connection was refused.`,
          );
          return false;
        case 'changed':
          failure = new SshError(
            'host-key-changed',
            `The host key of ${shown} has changed: ${check.file} line ${check.line} lists a different ${check.keyType} key, ` +
              `the server now presents ${fingerprint}. The connection was refused; someone may be intercepting it, or the ` +
              `node was reinstalled (then remove that line, e.g. with ssh-keygen -R "${shown}").`,
          );
          return false;
        case 'unknown': {
          const knownHostsFile = hop.userKnownHostsFiles[0];
          const question = { host: name, port: hop.port, keyType, fingerprint, knownHostsFile: knownHostsFile ?? '', otherKnownKeyTypes: check.otherKeyTypes };
          const accepted =
            knownHostsFile !== undefined &&
            (hop.hostKeyPolicy === 'accept-new' ||
              (hop.hostKeyPolicy === 'ask' && (await whilePrompting(() => options.prompter.confirmNewHostKey(question)))));
          if (!accepted) {
            failure = new SshError(
              'host-key-unknown',
              `The host key of ${shown} (${keyType} ${fingerprint}) is not in ${knownHostsFiles.join(' or ')} and was not accepted; the connection was refused.`,
            );
            return false;
          }
          await appendKnownHost(knownHostsFile, formatKnownHostsLine(name, hop.port, key, hop.hashKnownHosts));
          log(`Added the ${keyType} key ${fingerprint} of ${shown} to ${knownHostsFile}.`);
          return true;
        }
      }
    };

    const auth = makeAuthHandler(hop, options.prompter, whilePrompting, log);
    client.connect({
      host: hop.hostName,
      port: hop.port,
      ...(sock ? { sock } : {}),
      username: hop.user,
      readyTimeout: 0,
      keepaliveInterval: hop.serverAliveIntervalSeconds * 1000,
      keepaliveCountMax: hop.serverAliveCountMax,
      algorithms: { serverHostKey: preferredHostKeyAlgorithms(preferredTypes) },
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        verifyHostKey(key).then(verify, (error: unknown) => {
          failure = new SshError('connect', `Checking the host key of ${hop.hostName} failed: ${String(error)}.`);
          verify(false);
        });
      },
      authHandler: (methodsLeft, _partialSuccess, next) => {
        auth
          .next(methodsLeft)
          .then((method) => {
            if (method === false) failure = auth.failure(methodsLeft);
            next(method as AnyAuthMethod);
          })
          .catch(() => next(false as unknown as AnyAuthMethod));
      },
    });
  });
}

/** Moves the algorithms for key types listed in known_hosts to the front, keeping ssh2's order otherwise. */
function preferredHostKeyAlgorithms(knownTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  const front: ServerHostKeyAlgorithm[] = [];
  for (const type of knownTypes) {
    const algorithms = type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
    for (const algorithm of algorithms) {
      if ((HOST_KEY_ALGORITHMS as string[]).includes(algorithm) && !front.includes(algorithm as ServerHostKeyAlgorithm)) {
        front.push(algorithm as ServerHostKeyAlgorithm);
      }
    }
  }
  return [...front, ...HOST_KEY_ALGORITHMS.filter((algorithm) => !front.includes(algorithm))];
}

interface AuthSequence {
  /** The next method to try given what the server still accepts (null before the first attempt), or false. */
  next(methodsLeft: AuthenticationType[] | null): Promise<AnyAuthMethod | false>;
  /** The error to report when the sequence ran out. */
  failure(methodsLeft: AuthenticationType[] | null): SshError;
}

/** OpenSSH's order: `none` (to learn the methods), agent, identity files, keyboard-interactive, password. */
function makeAuthHandler(
  hop: ResolvedHost,
  prompter: Prompter,
  whilePrompting: <T>(ask: () => Promise<T>) => Promise<T>,
  log: (line: string) => void,
): AuthSequence {
  const username = hop.user;
  const tried: string[] = [];
  let agentDone = false;
  let identityIndex = 0;
  let keyboardAttempts = 0;
  let passwordAttempts = 0;

  async function loadIdentity(file: string): Promise<ParsedKey | undefined> {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      if (!hop.identityFilesAreDefaults) log(`Identity file ${file} could not be read; skipped.`);
      return undefined;
    }
    let parsed = utils.parseKey(data);
    if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
      if (!prompter.askPassphrase) {
        log(`Identity file ${file} is encrypted and no passphrase can be asked for; skipped.`);
        return undefined;
      }
      for (let attempt = 1; attempt <= MAX_SECRET_ATTEMPTS; attempt++) {
        const passphrase = await whilePrompting(() => prompter.askPassphrase!(file, attempt));
        if (passphrase === undefined) return undefined;
        parsed = utils.parseKey(data, passphrase);
        if (!(parsed instanceof Error)) break;
        log(`Wrong passphrase for ${file}.`);
      }
    }
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
    if (key === undefined || key instanceof Error || !key.isPrivateKey()) {
      log(`Identity file ${file} holds no usable private key; skipped.`);
      return undefined;
    }
    return key;
  }

  return {
    async next(methodsLeft) {
      if (methodsLeft === null) return { type: 'none', username };
      const allows = (method: AuthenticationType): boolean => methodsLeft.includes(method);
      if (hop.pubkeyAuthentication && allows('publickey')) {
        if (!agentDone) {
          agentDone = true;
          if (hop.agentSocket !== undefined && !hop.identitiesOnly) {
            tried.push('the ssh agent');
            return { type: 'agent', username, agent: hop.agentSocket };
          }
        }
        while (identityIndex < hop.identityFiles.length) {
          const file = hop.identityFiles[identityIndex++]!;
          const key = await loadIdentity(file);
          if (key) {
            tried.push(`key ${file}`);
            return { type: 'publickey', username, key };
          }
        }
      }
      if (hop.keyboardInteractiveAuthentication && allows('keyboard-interactive') && prompter.askKeyboardInteractive && keyboardAttempts < MAX_SECRET_ATTEMPTS) {
        keyboardAttempts++;
        if (keyboardAttempts === 1) tried.push('keyboard-interactive');
        return {
          type: 'keyboard-interactive',
          username,
          prompt: (name, instructions, _lang, prompts, finish) => {
            if (prompts.length === 0) {
              finish([]);
              return;
            }
            const question = { host: hop.hostName, name, instructions, prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo ?? false })) };
            whilePrompting(() => prompter.askKeyboardInteractive!(question)).then(
              (answers) => {
                if (answers === undefined) keyboardAttempts = MAX_SECRET_ATTEMPTS;
                finish(answers ?? []);
              },
              () => finish([]),
            );
          },
        };
      }
      if (hop.passwordAuthentication && allows('password') && prompter.askPassword && passwordAttempts < MAX_SECRET_ATTEMPTS) {
        passwordAttempts++;
        const password = await whilePrompting(() => prompter.askPassword!(username, hop.hostName, passwordAttempts));
        if (password !== undefined) {
          if (passwordAttempts === 1) tried.push('password');
          return { type: 'password', username, password };
        }
        passwordAttempts = MAX_SECRET_ATTEMPTS;
      }
      return false;
    },
    failure(methodsLeft) {
      const accepts = methodsLeft && methodsLeft.length > 0 ? ` (the server accepts: ${methodsLeft.join(', ')})` : '';
      const what = tried.length > 0 ? `tried ${tried.join(', ')}` : 'no agent, no readable identity file and no way to ask for a password';
      return new SshError('auth', `Authentication as ${describe(hop)} failed: ${what}${accepts}.`);
    },
  };
}

function mapConnectError(error: Error & { level?: string; code?: string }, hop: ResolvedHost): SshError {
  const where = `${hop.hostName}:${hop.port}`;
  switch (error.code) {
    case 'ECONNREFUSED':
      return new SshError('connect', `Connection to ${where} was refused; is sshd listening there?`, error.message);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SshError('connect', `The host name ${hop.hostName} could not be resolved.`, error.message);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new SshError('connect', `${where} cannot be reached (${error.code}).`, error.message);
    case 'ECONNRESET':
      return new SshError('disconnected', `${where} reset the connection.`, error.message);
  }
  if (error.level === 'client-authentication') return new SshError('auth', `Authentication as ${describe(hop)} failed.`, error.message);
  if (error.level === 'client-timeout') return new SshError('timeout', `No SSH handshake with ${where} in time.`, error.message);
  return new SshError('connect', `The SSH connection to ${where} failed: ${error.message}.`, error.message);
}

/** A one-shot timer that can be paused while a person is typing a secret (pauses nest). */
function pausableTimer(milliseconds: number, onExpire: () => void): { pause(): void; resume(): void; stop(): void } {
  let remaining = milliseconds;
  let startedAt = 0;
  let handle: NodeJS.Timeout | undefined;
  let pauses = 0;
  let stopped = false;
  const start = (): void => {
    startedAt = Date.now();
    handle = setTimeout(onExpire, Math.max(remaining, 1));
  };
  start();
  return {
    pause() {
      if (stopped || pauses++ > 0) return;
      clearTimeout(handle);
      remaining -= Date.now() - startedAt;
    },
    resume() {
      if (stopped || --pauses > 0) return;
      start();
    },
    stop() {
      stopped = true;
      clearTimeout(handle);
    },
  };
}
