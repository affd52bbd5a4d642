/**
 * known_hosts files the way OpenSSH reads them: plain and hashed (`|1|salt|hash`) host patterns, `[host]:port`
 * for non-standard ports, wildcards and negation, and the `@revoked` / `@cert-authority` markers. Checking a
 * presented host key gives known, changed (with file and line), revoked or unknown; appending a new key lives
 * here too. Asking the user about an unknown key does not: that is the caller's Prompter.
 */

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  readonly file: string;
  /** 1-based line number in `file`. */
  readonly line: number;
  readonly marker: 'cert-authority' | 'revoked' | undefined;
  /** The host field as written: comma-separated patterns, or one `|1|salt|hash` entry. */
  readonly hosts: string;
  /** Key type taken from the key blob itself (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, …). */
  readonly keyType: string;
  readonly key: Buffer;
}

export type HostKeyCheck =
  | { readonly status: 'known'; readonly file: string; readonly line: number }
  | { readonly status: 'changed'; readonly file: string; readonly line: number; readonly keyType: string }
  | { readonly status: 'revoked'; readonly file: string; readonly line: number }
  | { readonly status: 'unknown'; readonly otherKeyTypes: string[] };

/** Lines longer than this are not host keys (the largest RSA keys stay far below it) and are skipped. */
const MAX_LINE_LENGTH = 16 * 1024;

/** Parses known_hosts text; lines that are not understood are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!;
    if (raw.length > MAX_LINE_LENGTH) continue;
    const fields = raw.trim().split(/[ \t]+/);
    if (fields.length === 0 || fields[0] === '' || fields[0]!.startsWith('#')) continue;
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked') marker = 'revoked';
    else if (fields[0] === '@cert-authority') marker = 'cert-authority';
    else if (fields[0]!.startsWith('@')) continue;
    if (marker) fields.shift();
    const [hosts, , keyText] = fields;
    if (!hosts || !keyText) continue;
    const key = Buffer.from(keyText, 'base64');
    const keyType = keyBlobType(key);
    if (!keyType) continue;
    entries.push({ file, line: index + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/** The algorithm name at the start of an SSH public key blob, or undefined when the blob is malformed. */
export function keyBlobType(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const length = key.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > key.length) return undefined;
  const type = key.subarray(4, 4 + length).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

/** How OpenSSH names a host in known_hosts: the bare name on port 22, `[name]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** True when the entry's host field names `host` on `port` (hashed or pattern form). */
export function entryMatchesHost(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = knownHostsName(host.toLowerCase(), port);
  if (entry.hosts.startsWith('|1|')) {
    const [, , saltText, hashText] = entry.hosts.split('|');
    if (!saltText || !hashText) return false;
    const salt = Buffer.from(saltText, 'base64');
    const expected = Buffer.from(hashText, 'base64');
    const actual = createHmac('sha1', salt).update(name).digest();
    return expected.length === actual.length && expected.equals(actual);
  }
  let matched = false;
  for (const rawPattern of entry.hosts.split(',')) {
    const negated = rawPattern.startsWith('!');
    const pattern = (negated ? rawPattern.slice(1) : rawPattern).toLowerCase();
    if (pattern === '' || !wildcardMatch(pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** OpenSSH's `*` and `?` wildcards, iteratively (no backtracking blow-up on long patterns). */
function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Checks a presented host key against the entries. A revoked key is refused outright; a key equal to a
 * listed one is known; a different key of a type that is listed for the host is a changed key (OpenSSH's
 * "REMOTE HOST IDENTIFICATION HAS CHANGED"); anything else is unknown. `@cert-authority` lines are not
 * host keys and are skipped (certificate host keys are not supported by the SSH library).
 */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyCheck {
  const presentedType = keyBlobType(key);
  const forHost = entries.filter((entry) => entry.marker !== 'cert-authority' && entryMatchesHost(entry, host, port));
  const revoked = entries.find((entry) => entry.marker === 'revoked' && entry.key.equals(key));
  if (revoked) return { status: 'revoked', file: revoked.file, line: revoked.line };
  const plain = forHost.filter((entry) => entry.marker === undefined);
  const same = plain.find((entry) => entry.key.equals(key));
  if (same) return { status: 'known', file: same.file, line: same.line };
  const sameType = plain.find((entry) => entry.keyType === presentedType);
  if (sameType) return { status: 'changed', file: sameType.file, line: sameType.line, keyType: sameType.keyType };
  return { status: 'unknown', otherKeyTypes: [...new Set(plain.map((entry) => entry.keyType))] };
}

/** Key types listed for the host, in file order: the client prefers these when negotiating, as OpenSSH does. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const types = entries
    .filter((entry) => entry.marker === undefined && entryMatchesHost(entry, host, port))
    .map((entry) => entry.keyType);
  return [...new Set(types)];
}

/** `SHA256:…` exactly as `ssh-keygen -lf` and OpenSSH's prompt print it (unpadded base64). */
export function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** One known_hosts line for the key, hashed like `HashKnownHosts yes` when asked. */
export function formatKnownHostsLine(host: string, port: number, key: Buffer, hashed: boolean): string {
  const name = knownHostsName(host.toLowerCase(), port);
  let hostField = name;
  if (hashed) {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update(name).digest();
    hostField = `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
  }
  return `${hostField} ${keyBlobType(key) ?? 'unknown'} ${key.toString('base64')}`;
}

/** Reads and parses the files that exist; a missing or unreadable file contributes nothing. */
export async function loadKnownHosts(files: readonly string[]): Promise<KnownHostEntry[]> {
  const entries: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    entries.push(...parseKnownHosts(text, file));
  }
  return entries;
}

/** Appends a line to `file`, creating its folder (mode 700) and file (mode 600) when needed. */
export async function appendKnownHost(file: string, line: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const existing = await stat(file);
    if (existing.size > 0) {
      const text = await readFile(file);
      if (text[text.length - 1] !== 0x0a) prefix = '\n';
    }
  } catch {
    // The file does not exist yet; appendFile creates it.
  }
  await appendFile(file, `${prefix}${line}\n`, { mode: 0o600 });
}
