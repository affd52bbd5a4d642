import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectionFolderName, sshConfigHosts } from '../../src/extension/collect/sshHosts';
import { RESTRICTED_SETTINGS, untrustedOverrides } from '../../src/extension/workspaceTrust';

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
const properties: Record<string, { scope?: string }> = manifest.contributes.configuration.properties;

test('settings that decide what runs on a node or which keys are used are machine-scoped and restricted', () => {
  const restricted: string[] = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
  assert.deepEqual([...restricted].sort(), RESTRICTED_SETTINGS.map((key) => `kubeNetpath.${key}`).sort());
  for (const key of restricted) {
    assert.ok(properties[key], `${key} is declared`);
    assert.equal(properties[key]!.scope, 'machine', key);
  }
  for (const key of Object.keys(properties)) {
    if (/^kubeNetpath\.(ssh|collect)\./.test(key) || key === 'kubeNetpath.hosts') assert.equal(properties[key]!.scope, 'machine', key);
  }
});

test('an untrusted workspace that sets restricted settings is reported, a trusted one is not', () => {
  const inspect = (key: string) => (key === 'collect.useSudo' ? { workspaceValue: true } : key === 'hosts' ? { workspaceFolderValue: ['evil'] } : {});
  assert.deepEqual(untrustedOverrides(false, inspect).sort(), ['collect.useSudo', 'hosts']);
  assert.deepEqual(untrustedOverrides(true, inspect), []);
  assert.deepEqual(untrustedOverrides(false, () => ({})), []);
});

test('every command is contributed with the Kube Netpath category', () => {
  for (const command of manifest.contributes.commands) {
    assert.match(command.command, /^kubeNetpath\.[a-z][A-Za-z]+$/);
    assert.equal(command.category, 'Kube Netpath');
  }
});

test('ssh config hosts are listed without patterns', () => {
  const config = ['Host node-1 node-2', '  HostName 10.0.0.5', 'Host *.internal !bastion', 'host = "worker 3"', 'Match host x', 'Host gw?', 'Host bastion'].join('\n');
  assert.deepEqual(sshConfigHosts(config), ['node-1', 'node-2', 'bastion']);
  assert.deepEqual(sshConfigHosts('Host = "edge-1" edge-2'), ['edge-1', 'edge-2']);
  assert.deepEqual(sshConfigHosts(undefined), []);
});

test('collection folders are named for the host and time, safe for a path', () => {
  const when = new Date('2026-11-25T13:45:01Z');
  assert.equal(collectionFolderName('node-1', when), 'node-1-20261125-134501');
  assert.equal(collectionFolderName('../../etc/x y', when), 'etc-x-y-20261125-134501');
  assert.equal(collectionFolderName('admin@10.0.0.5', when), 'admin-10.0.0.5-20261125-134501');
});
