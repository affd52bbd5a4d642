/**
 * Starts a real VS Code web workbench for the end-to-end tests: code-server 4.100.3 from test/e2e/vscode
 * (installed by `npm run e2e:setup`) with a packaged .vsix installed, every folder (config, user data,
 * extensions, XDG dirs) inside one temporary run folder, and Debian's chromium driven by playwright-core.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../..');
export const CODE_SERVER = join(here, 'vscode/node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.KUBE_NETPATH_CHROMIUM ?? '/usr/bin/chromium';

/** Why the workbench cannot start here, or undefined when everything it needs is installed. */
export function missingPrerequisite(): string | undefined {
  if (!existsSync(CODE_SERVER)) return 'code-server is not installed: run `npm run e2e:setup` (see test/e2e/setup.mjs).';
  if (!existsSync(CHROMIUM)) return `chromium is not installed at ${CHROMIUM}: apt-get install chromium.`;
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`code-server did not answer at ${url}`);
}

export interface Workbench {
  runDir: string;
  workspace: string;
  page: Page;
  context: BrowserContext;
  /** code-server's output so far, for failure messages. */
  log(): string;
  close(): Promise<void>;
}

export interface WorkbenchOptions {
  /** The .vsix to install (see packageVsix.ts). */
  vsix: string;
  /** Writes the files the test needs into the workspace folder before the page opens. */
  prepareWorkspace(workspace: string): void;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
}

export async function startWorkbench(options: WorkbenchOptions): Promise<Workbench> {
  const runDir = mkdtempSync(join(tmpdir(), 'kube-netpath-e2e-'));
  const dirs = {
    userData: join(runDir, 'user-data'),
    extensions: join(runDir, 'extensions'),
    workspace: join(runDir, 'workspace'),
    browser: join(runDir, 'browser-profile'),
    xdgConfig: join(runDir, 'xdg/config'),
    xdgData: join(runDir, 'xdg/data'),
    xdgCache: join(runDir, 'xdg/cache'),
    xdgState: join(runDir, 'xdg/state'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  mkdirSync(join(dirs.userData, 'Machine'), { recursive: true });
  // code-server's extension host is a remote one: machine-scoped settings are read from Machine/settings.json.
  writeFileSync(join(dirs.userData, 'Machine/settings.json'), JSON.stringify(options.settings ?? {}, null, 2));
  writeFileSync(
    join(dirs.userData, 'User/settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.colorTheme': 'Default Dark Modern',
        'workbench.tips.enabled': false,
        'security.workspace.trust.enabled': false,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'editor.hover.delay': 200,
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
        ...options.settings,
      },
      null,
      2,
    ),
  );
  options.prepareWorkspace(dirs.workspace);
  const port = await freePort();
  const config = join(runDir, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    XDG_STATE_HOME: dirs.xdgState,
  };
  const common = ['--config', config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  const install = spawnSync(process.execPath, [CODE_SERVER, ...common, '--install-extension', options.vsix], { env, encoding: 'utf8', timeout: 120_000 });
  if (install.status !== 0) throw new Error(`installing the .vsix failed: ${install.stdout}${install.stderr}`);

  let output = '';
  const server = spawn(
    process.execPath,
    [CODE_SERVER, ...common, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', dirs.workspace],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}/`;
  let context: BrowserContext | undefined;
  try {
    await waitForHttp(`${url}healthz`, server, 60_000);
    context = await chromium.launchPersistentContext(dirs.browser, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${url}?folder=${encodeURIComponent(dirs.workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    return {
      runDir,
      workspace: dirs.workspace,
      page,
      context,
      log: () => output,
      close: async () => {
        await context?.close().catch(() => undefined);
        server.kill('SIGTERM');
        await new Promise((done) => (server.exitCode !== null ? done(undefined) : server.once('exit', done)));
        if (!process.env.KUBE_NETPATH_KEEP_E2E) rmSync(runDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close().catch(() => undefined);
    server.kill('SIGTERM');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output}`);
  }
}
