/**
 * "Collect from Node": asks for an ssh host (from ~/.ssh/config, the kubeNetpath.hosts setting, or typed),
 * runs the SSH engineer's collector (src/node/collect/collectFromHost.ts) under a cancellable progress
 * notification, logs each command to the output channel, and opens the new snapshot in the tree. Host keys,
 * passwords and passphrases are asked for here; secrets go only to the editor's secret storage, and only when
 * the user says so.
 */

import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { collectFromHost } from '../../node/collect/collectFromHost';
import { loadResolveContext, readSshConfig } from '../../node/ssh/hostConfig';
import type { Prompter } from '../../node/ssh/prompter';
import { collectionFolderName, sshConfigHosts } from './sshHosts';

export interface CollectDeps {
  secrets: vscode.SecretStorage;
  storageFolder: vscode.Uri;
  log(message: string): void;
  /** Opens the collected folder in the tree. */
  open(folder: string): Promise<void>;
}

function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

function vscodePrompter(deps: CollectDeps): Prompter {
  const secretKey = (kind: string, name: string) => `kubeNetpath.${kind}:${name}`;
  const askSecret = async (kind: 'password' | 'passphrase', name: string, attempt: number, prompt: string) => {
    const key = secretKey(kind, name);
    if (attempt === 1) {
      const stored = await deps.secrets.get(key);
      if (stored !== undefined) return stored;
    } else {
      await deps.secrets.delete(key);
    }
    const value = await vscode.window.showInputBox({ title: 'Kube Netpath: Collect from Node', prompt, password: true, ignoreFocusOut: true });
    if (value === undefined) return undefined;
    const remember = await vscode.window.showQuickPick(['Do not remember', "Remember in the editor's secret storage"], {
      title: `Remember this ${kind}?`,
      ignoreFocusOut: true,
    });
    if (remember?.startsWith('Remember')) await deps.secrets.store(key, value);
    return value;
  };
  return {
    async confirmNewHostKey(question) {
      const trust = 'Trust and Connect';
      const detail = [
        `${question.host}:${question.port} presents a ${question.keyType} key that is not in ${question.knownHostsFile}.`,
        `Fingerprint: ${question.fingerprint}`,
        question.otherKnownKeyTypes.length > 0 ? `The host is known with other key types: ${question.otherKnownKeyTypes.join(', ')}.` : '',
        'Compare the fingerprint with the node before trusting it; it will be added to known_hosts.',
      ]
        .filter(Boolean)
        .join('\n');
      const answer = await vscode.window.showWarningMessage(`Unknown host key for ${question.host}`, { modal: true, detail }, trust);
      return answer === trust;
    },
    askPassword: (user, host, attempt) => askSecret('password', `${user}@${host}`, attempt, `Password for ${user}@${host}`),
    askPassphrase: (keyFile, attempt) => askSecret('passphrase', keyFile, attempt, `Passphrase for ${keyFile}`),
  };
}

async function pickHost(argument: unknown, configHosts: string[], settingHosts: string[]): Promise<string | undefined> {
  if (typeof argument === 'object' && argument !== null && typeof (argument as { host?: unknown }).host === 'string') {
    return (argument as { host: string }).host;
  }
  const typeOwn = 'Type a host…';
  const items: vscode.QuickPickItem[] = [
    ...settingHosts.map((host) => ({ label: host, description: 'kubeNetpath.hosts' })),
    ...configHosts.filter((host) => !settingHosts.includes(host)).map((host) => ({ label: host, description: 'ssh config' })),
    { label: typeOwn, alwaysShow: true },
  ];
  const picked = items.length > 1 ? await vscode.window.showQuickPick(items, { title: 'Collect from which node?', placeHolder: 'An ssh host' }) : { label: typeOwn };
  if (!picked) return undefined;
  if (picked.label !== typeOwn) return picked.label;
  const typed = await vscode.window.showInputBox({
    title: 'Collect from Node',
    prompt: 'ssh host: a name from ~/.ssh/config, host, or user@host',
    validateInput: (text) => (/^[A-Za-z0-9._@:[\]-]+$/.test(text.trim()) ? undefined : 'Type a host name, like node-1 or admin@10.0.0.5.'),
  });
  return typed?.trim() || undefined;
}

export async function collectFromNode(deps: CollectDeps, argument: unknown): Promise<void> {
  const config = vscode.workspace.getConfiguration('kubeNetpath');
  const configFile = config.get<string>('ssh.configFile', '').trim();
  const base = await loadResolveContext();
  const resolveContext = configFile ? { ...base, configText: await readSshConfig(expandHome(configFile), base.homeDir) } : base;
  const host = await pickHost(argument, sshConfigHosts(resolveContext.configText), config.get<string[]>('hosts', []));
  if (!host) return;
  const outputRoot = config.get<string>('collect.outputFolder', '').trim();
  const root = outputRoot ? expandHome(outputRoot) : join(deps.storageFolder.fsPath, 'snapshots');
  const outDir = join(root, collectionFolderName(host, new Date()));
  const identityFile = config.get<string>('ssh.identityFile', '').trim();
  const timeoutMs = Math.max(5, config.get<number>('collect.timeoutSeconds', 60)) * 1000;
  deps.log(`Collecting from ${host} into ${outDir}.`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Collecting from ${host}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const cancel = token.onCancellationRequested(() => abort.abort());
      const timer = setTimeout(() => abort.abort(), timeoutMs);
      try {
        return await collectFromHost({
          target: host,
          overrides: identityFile ? { identityFile: expandHome(identityFile) } : {},
          outDir,
          sudo: config.get<boolean>('collect.useSudo', false),
          prompter: vscodePrompter(deps),
          signal: abort.signal,
          resolveContext,
          log: (line) => deps.log(line),
          onProgress: (step) => {
            deps.log(`${step.id}: ${step.status}${step.exitCode !== null ? ` (exit ${step.exitCode})` : ''}, ${step.bytes} bytes in ${step.milliseconds} ms`);
            progress.report({ message: `${step.id} ${step.status}` });
          },
        });
      } finally {
        clearTimeout(timer);
        cancel.dispose();
      }
    },
  );
  for (const warning of result.meta.warnings) deps.log(`warning: ${warning}`);
  deps.log(`Collected ${Object.keys(result.meta.files).length} files from ${result.meta.node} into ${result.dir}.`);
  await deps.open(result.dir);
}
