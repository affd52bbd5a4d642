// known_hosts matching checked against OpenSSH's own tools: keys and hashed lines come from ssh-keygen
// (`ssh-keygen -H` hashes, `ssh-keygen -lf` prints fingerprints, `ssh-keygen -F` finds hosts), so the
// parser is tested against the format as OpenSSH writes it, not against itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendKnownHost,
  checkHostKey,
  entryMatchesHost,
  formatKnownHostsLine,
  knownKeyTypes,
  parseKnownHosts,
  sha256Fingerprint,
} from '../../src/node/ssh/knownHosts';

const haveKeygen = existsSync('/usr/bin/ssh-keygen');
const skip = haveKeygen ? false : 'ssh-keygen is not installed';

interface Key {
  type: string;
  base64: string;
  blob: Buffer;
  pubPath: string;
}

function makeKeys(): { dir: string; ed: Key; ed2: Key; rsa: Key } {
  const dir = mkdtempSync(join(tmpdir(), 'npssh-kh-'));
  const make = (name: string, type: string, extra: string[] = []): Key => {
    execFileSync('ssh-keygen', ['-q', '-t', type, ...extra, '-N', '', '-f', join(dir, name)]);
    const [keyType, base64] = readFileSync(join(dir, `${name}.pub`), 'utf8').split(' ') as [string, string];
    return { type: keyType, base64, blob: Buffer.from(base64, 'base64'), pubPath: join(dir, `${name}.pub`) };
  };
  return { dir, ed: make('ed', 'ed25519'), ed2: make('ed2', 'ed25519'), rsa: make('rsa', 'rsa', ['-b', '2048']) };
}

test('fingerprints are the ones ssh-keygen -lf prints', { skip }, () => {
  const { dir, ed, rsa } = makeKeys();
  try {
    for (const key of [ed, rsa]) {
      const printed = execFileSync('ssh-keygen', ['-lf', key.pubPath], { encoding: 'utf8' }).split(' ')[1];
      assert.equal(sha256Fingerprint(key.blob), printed);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hashed entries written by ssh-keygen -H match their host and port only', { skip }, () => {
  const { dir, ed, rsa } = makeKeys();
  try {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `node1.example ${ed.type} ${ed.base64}\n[10.1.2.3]:2222 ${rsa.type} ${rsa.base64}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    assert.ok(text.startsWith('|1|'), 'ssh-keygen hashed the file');
    const entries = parseKnownHosts(text, file);
    assert.equal(entries.length, 2);
    assert.deepEqual(checkHostKey(entries, 'node1.example', 22, ed.blob), { status: 'known', file, line: 1 });
    assert.deepEqual(checkHostKey(entries, 'NODE1.example', 22, ed.blob), { status: 'known', file, line: 1 });
    assert.deepEqual(checkHostKey(entries, '10.1.2.3', 2222, rsa.blob), { status: 'known', file, line: 2 });
    // The same address on port 22 is another host for OpenSSH.
    assert.equal(checkHostKey(entries, '10.1.2.3', 22, rsa.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, 'node2.example', 22, ed.blob).status, 'unknown');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a different key of a listed type is reported as changed with file and line', { skip }, () => {
  const { dir, ed, ed2, rsa } = makeKeys();
  try {
    const text = `# comment\n\nother ${ed2.type} ${ed2.base64}\nnode1,10.0.0.1 ${ed.type} ${ed.base64}\n`;
    const entries = parseKnownHosts(text, '/home/u/.ssh/known_hosts');
    assert.deepEqual(checkHostKey(entries, '10.0.0.1', 22, ed2.blob), {
      status: 'changed',
      file: '/home/u/.ssh/known_hosts',
      line: 4,
      keyType: 'ssh-ed25519',
    });
    // An RSA key for a host known only by ed25519 is unknown, and the known type is named.
    assert.deepEqual(checkHostKey(entries, 'node1', 22, rsa.blob), { status: 'unknown', otherKeyTypes: ['ssh-ed25519'] });
    assert.deepEqual(knownKeyTypes(entries, 'node1', 22), ['ssh-ed25519']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wildcards, negation and bracketed ports follow OpenSSH pattern rules', { skip }, () => {
  const { dir, ed } = makeKeys();
  try {
    const entries = parseKnownHosts(
      `*.prod.example,!bastion.prod.example ${ed.type} ${ed.base64}\n[node-?.lab]:2200 ${ed.type} ${ed.base64}\n`,
      'kh',
    );
    const [wild, bracket] = entries as [(typeof entries)[0], (typeof entries)[0]];
    assert.equal(entryMatchesHost(wild, 'node7.prod.example', 22), true);
    assert.equal(entryMatchesHost(wild, 'bastion.prod.example', 22), false);
    assert.equal(entryMatchesHost(wild, 'node7.prod.example', 2200), false);
    assert.equal(entryMatchesHost(bracket, 'node-3.lab', 2200), true);
    assert.equal(entryMatchesHost(bracket, 'node-3.lab', 22), false);
    assert.equal(entryMatchesHost(bracket, 'node-33.lab', 2200), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('@revoked refuses the key and @cert-authority lines are never taken as host keys', { skip }, () => {
  const { dir, ed, ed2 } = makeKeys();
  try {
    const entries = parseKnownHosts(
      `@cert-authority *.example ${ed.type} ${ed.base64}\n@revoked * ${ed2.type} ${ed2.base64}\nnode1.example ${ed2.type} ${ed2.base64}\n`,
      'kh',
    );
    assert.equal(entries.length, 3);
    // The CA key presented as a host key is not "known" through the @cert-authority line.
    assert.equal(checkHostKey(entries, 'node1.example', 22, ed.blob).status, 'changed');
    assert.deepEqual(checkHostKey(entries, 'node1.example', 22, ed2.blob), { status: 'revoked', file: 'kh', line: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed lines are skipped without throwing', () => {
  const entries = parseKnownHosts('garbage\nhost ssh-ed25519 !!!notbase64\n@bogus host ssh-ed25519 AAAA\n\n' + 'x'.repeat(20000), 'kh');
  assert.deepEqual(entries, []);
});

test('appended lines (plain and hashed) are found again by ssh-keygen -F and by the parser', { skip }, async () => {
  const { dir, ed, rsa } = makeKeys();
  try {
    const file = join(dir, 'sub', 'known_hosts');
    await appendKnownHost(file, formatKnownHostsLine('10.9.8.7', 2222, ed.blob, false));
    await appendKnownHost(file, formatKnownHostsLine('Node5.Example', 22, rsa.blob, true));
    const found = execFileSync('ssh-keygen', ['-F', '[10.9.8.7]:2222', '-f', file], { encoding: 'utf8' });
    assert.match(found, /ssh-ed25519/);
    const foundHashed = execFileSync('ssh-keygen', ['-F', 'node5.example', '-f', file], { encoding: 'utf8' });
    assert.match(foundHashed, /ssh-rsa/);
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    assert.equal(checkHostKey(entries, '10.9.8.7', 2222, ed.blob).status, 'known');
    assert.equal(checkHostKey(entries, 'node5.example', 22, rsa.blob).status, 'known');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
