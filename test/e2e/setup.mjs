// Installs the VS Code web workbench (code-server) the end-to-end tests drive, into test/e2e/vscode/ with its
// own lockfile, so the root package.json stays light. Debian packages it needs (installed by .ci/run):
// build-essential python3 pkg-config libkrb5-dev ripgrep chromium.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const vscodeDir = join(here, 'vscode');

// @vscode/ripgrep downloads rg from GitHub during install; seed its cache with Debian's rg instead.
const rgCache = join(process.env.TMPDIR || tmpdir(), 'vscode-ripgrep-cache-1.15.11');
const rgArchive = join(rgCache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz');
if (!existsSync('/usr/bin/rg')) {
  console.error('e2e:setup: /usr/bin/rg is missing; install the Debian package ripgrep first.');
  process.exit(2);
}
if (!existsSync(rgArchive)) {
  mkdirSync(rgCache, { recursive: true });
  run('tar', ['czf', rgArchive, '-C', '/usr/bin', 'rg'], here);
}
const installArgs = existsSync(join(vscodeDir, 'package-lock.json')) ? ['ci'] : ['install'];
// code-server's postinstall refuses to run as root without unsafe_perm, and then runs a nested `npm install`
// for VS Code's own native modules; npm 11 blocks dependency install scripts unless allowed, and the nested
// install has no allowScripts of its own, so allow them for this folder's install only.
run('npm', [...installArgs, '--no-audit', '--no-fund'], vscodeDir, {
  npm_config_unsafe_perm: 'true',
  npm_config_yes: 'true',
  npm_config_dangerously_allow_all_scripts: 'true',
});
console.log('e2e:setup: code-server is installed in test/e2e/vscode/node_modules.');

function run(command, args, cwd, env = {}) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`e2e:setup: ${command} ${args.join(' ')} failed with exit code ${result.status}.`);
    process.exit(result.status ?? 1);
  }
}
