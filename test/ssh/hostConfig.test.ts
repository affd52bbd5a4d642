// Host resolution checked against OpenSSH itself: for each host, `ssh -G -F <config>` prints what ssh would use,
// and resolveHost must agree on host name, user, port, identity files, ProxyJump and ServerAliveInterval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { HostConfigError, readSshConfig, resolveHost } from '../../src/node/ssh/hostConfig';
import type { HostOverrides, ResolveContext } from '../../src/node/ssh/hostConfig';

const CONFIG = `
Host node1 n1
  HostName 10.0.0.1
  User admin
  IdentityFile ~/.ssh/node_key
  ProxyJump bastion
Host bastion
  HostName bastion.example.com
  Port 2201
  User jump
  ServerAliveInterval 5
Host inner
  HostName 192.168.7.7
  ProxyJump n1
Host *.lab
  user labuser
  PORT 2222
  IdentityFile ~/.ssh/lab_key
Host direct
  ProxyJump none
  HostName 172.16.0.9
Host *
  IdentityFile ~/.ssh/id_fallback
  ServerAliveInterval 15
`;

function context(configText: string | undefined, env: Record<string, string> = {}): ResolveContext {
  return { configText, homeDir: homedir(), localUser: 'localme', env };
}

function sshG(configFile: string, target: string, flags: string[]): Map<string, string[]> {
  const output = execFileSync('ssh', ['-G', '-F', configFile, ...flags, target], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const values = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const key = line.slice(0, space);
    values.set(key, [...(values.get(key) ?? []), line.slice(space + 1)]);
  }
  return values;
}

const haveSsh = existsSync('/usr/bin/ssh');

test('resolution agrees with ssh -G on host name, user, port, identity files, ProxyJump and keepalive', { skip: haveSsh ? false : 'ssh is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'npssh-cfg-'));
  try {
    const configFile = join(dir, 'config');
    writeFileSync(configFile, CONFIG);
    const rows: { target: string; overrides: HostOverrides; flags: string[] }[] = [
      { target: 'n1', overrides: {}, flags: [] },
      { target: 'node1', overrides: { user: 'root' }, flags: ['-l', 'root'] },
      { target: 'bastion', overrides: {}, flags: [] },
      { target: 'x.lab', overrides: {}, flags: [] },
      { target: 'x.lab', overrides: { port: 99, user: 'ops' }, flags: ['-p', '99', '-l', 'ops'] },
      { target: 'someone@other.host', overrides: {}, flags: [] },
      { target: 'direct', overrides: {}, flags: [] },
      // ssh drops a -i file that does not exist, so this one does.
      { target: 'n1', overrides: { identityFile: join(dir, 'config') }, flags: ['-i', join(dir, 'config')] },
    ];
    for (const row of rows) {
      const expected = sshG(configFile, row.target, row.flags);
      const resolved = resolveHost(row.target, row.overrides, { ...context(CONFIG), localUser: userInfo().username });
      const label = `${row.target} ${row.flags.join(' ')}`;
      assert.equal(resolved.hostName, expected.get('hostname')![0], `hostname for ${label}`);
      assert.equal(resolved.user, expected.get('user')![0], `user for ${label}`);
      assert.equal(String(resolved.port), expected.get('port')![0], `port for ${label}`);
      assert.equal(String(resolved.serverAliveIntervalSeconds), expected.get('serveraliveinterval')![0], `keepalive for ${label}`);
      const home = homedir();
      const identities = resolved.identityFiles.map((file) => (file.startsWith(`${home}/`) ? `~/${file.slice(home.length + 1)}` : file));
      const expectedIdentities = (expected.get('identityfile') ?? []).map((file) => file.replace(home, '~'));
      assert.deepEqual(identities, expectedIdentities, `identity files for ${label}`);
      const jump = expected.get('proxyjump')?.[0];
      assert.equal(resolved.jumps.length > 0 ? resolved.jumps.map((hop) => hop.alias).join(',') : undefined, jump, `ProxyJump for ${label}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Include is followed (globs sorted, relative to ~/.ssh) and agrees with ssh -G', { skip: haveSsh ? false : 'ssh is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'npssh-inc-'));
  try {
    mkdirSync(join(dir, 'conf.d'));
    mkdirSync(join(dir, '.ssh'));
    writeFileSync(join(dir, 'conf.d', '20-b.conf'), 'Host *.inc\n  Port 2022\n  User second\n');
    writeFileSync(join(dir, 'conf.d', '10-a.conf'), 'Host inc1 *.inc\n  HostName 10.9.9.9\n  User first\n');
    writeFileSync(join(dir, 'conf.d', 'ignored.txt'), 'Host inc1\n  Port 1\n');
    writeFileSync(join(dir, '.ssh', 'relative.conf'), 'Host rel\n  HostName 10.8.8.8\n');
    const main = join(dir, 'config');
    writeFileSync(main, `Include ${dir}/conf.d/*.conf\nHost rel\n  User reluser\nHost *\n  ServerAliveInterval 7\n`);
    const text = await readSshConfig(main, dir);
    for (const target of ['inc1', 'x.inc']) {
      const expected = sshG(main, target, []);
      const resolved = resolveHost(target, {}, { ...context(text), localUser: userInfo().username });
      assert.equal(resolved.hostName, expected.get('hostname')![0], target);
      assert.equal(resolved.user, expected.get('user')![0], target);
      assert.equal(String(resolved.port), expected.get('port')![0], target);
      assert.equal(String(resolved.serverAliveIntervalSeconds), expected.get('serveraliveinterval')![0], target);
    }
    // A relative Include is under ~/.ssh (here the test's home); a missing file includes nothing.
    writeFileSync(main, 'Include relative.conf missing.conf\nHost rel\n  User reluser\n');
    const relative = resolveHost('rel', {}, { ...context(await readSshConfig(main, dir)), homeDir: dir });
    assert.deepEqual([relative.hostName, relative.user], ['10.8.8.8', 'reluser']);
    // Include loops stop with a sentence instead of recursing forever.
    writeFileSync(main, `Include ${main}\n`);
    await assert.rejects(readSshConfig(main, dir), /Include nests more than 16 levels/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ProxyJump hops are resolved through the config, nested hops first', () => {
  const inner = resolveHost('inner', {}, context(CONFIG));
  assert.deepEqual(
    inner.jumps.map((hop) => [hop.hostName, hop.port, hop.user]),
    [
      ['bastion.example.com', 2201, 'jump'],
      ['10.0.0.1', 22, 'admin'],
    ],
  );
  assert.equal(inner.hostName, '192.168.7.7');
  assert.equal(inner.jumps[0]!.serverAliveIntervalSeconds, 5);
});

test('--jump overrides the config and accepts user@host:port lists', () => {
  const resolved = resolveHost('n1', { jump: 'ops@gw1:2022,[fd00::1]:2200' }, context(CONFIG));
  assert.deepEqual(
    resolved.jumps.map((hop) => [hop.user, hop.hostName, hop.port]),
    [
      ['ops', 'gw1', 2022],
      ['localme', 'fd00::1', 2200],
    ],
  );
  assert.deepEqual(resolveHost('n1', { jump: 'none' }, context(CONFIG)).jumps, []);
});

test('agent socket, identity defaults and host key policy come from the environment and config', () => {
  const plain = resolveHost('10.1.1.1', {}, context(undefined, { SSH_AUTH_SOCK: '/tmp/agent.sock' }));
  assert.equal(plain.agentSocket, '/tmp/agent.sock');
  assert.equal(plain.identityFilesAreDefaults, true);
  assert.deepEqual(
    plain.identityFiles,
    ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(homedir(), '.ssh', name)),
  );
  assert.equal(plain.user, 'localme');
  assert.equal(plain.hostKeyPolicy, 'ask');
  assert.deepEqual(plain.userKnownHostsFiles, [join(homedir(), '.ssh/known_hosts'), join(homedir(), '.ssh/known_hosts2')]);

  const strict = resolveHost(
    'box',
    {},
    context('Host box\n  IdentityAgent none\n  IdentitiesOnly yes\n  StrictHostKeyChecking accept-new\n  HashKnownHosts yes\n  UserKnownHostsFile /etc/kh1 ~/kh2\n  HostKeyAlias boxalias\n', {
      SSH_AUTH_SOCK: '/tmp/agent.sock',
    }),
  );
  assert.equal(strict.agentSocket, undefined);
  assert.equal(strict.identitiesOnly, true);
  assert.equal(strict.hostKeyPolicy, 'accept-new');
  assert.equal(strict.hashKnownHosts, true);
  assert.equal(strict.hostKeyName, 'boxalias');
  assert.deepEqual(strict.userKnownHostsFiles, ['/etc/kh1', join(homedir(), 'kh2')]);

  // Windows' OpenSSH agent is a named pipe, used when SSH_AUTH_SOCK is not set.
  assert.equal(resolveHost('box', {}, { ...context(undefined), platform: 'win32' }).agentSocket, '\\\\.\\pipe\\openssh-ssh-agent');
  assert.equal(resolveHost('box', {}, { ...context(undefined), platform: 'linux' }).agentSocket, undefined);

  // StrictHostKeyChecking no would accept any key silently; the collector keeps asking.
  assert.equal(resolveHost('box', {}, context('Host box\n  StrictHostKeyChecking no\n')).hostKeyPolicy, 'ask');
});

test('identity file tokens %d %r %h %p %% are expanded (ssh -G prints them unexpanded)', () => {
  const resolved = resolveHost('t', { user: 'ops' }, context('Host t\n  HostName 10.3.3.3\n  Port 2022\n  IdentityFile %d/keys/%r@%h:%p_100%%\n'));
  assert.deepEqual(resolved.identityFiles, [`${homedir()}/keys/ops@10.3.3.3:2022_100%`]);
});

test('settings that cannot be honoured are refused with a sentence', () => {
  assert.throws(() => resolveHost('p', {}, context('Host p\n  ProxyCommand nc %h %p\n')), HostConfigError);
  assert.throws(() => resolveHost('p', {}, context('Host p\n  Port 99999\n')), /not a port number/);
  assert.throws(() => resolveHost('a', {}, context('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n')), /loop/);
  assert.throws(() => resolveHost('bad host', {}, context(undefined)), /not a host name/);
});

test('Match exec is never evaluated', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npssh-cfg-'));
  try {
    const marker = join(dir, 'ran');
    resolveHost('m', {}, context(`Match exec "touch ${marker}"\n  User fromexec\nHost m\n  HostName 10.2.2.2\n`));
    assert.equal(existsSync(marker), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
