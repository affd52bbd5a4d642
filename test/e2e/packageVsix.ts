/**
 * Packages the extension for the end-to-end test in a staging folder of its own: the manifest, media and
 * docs copied, the project's own scripts/build.mjs run there in production mode (sources reached through
 * symbolic links that are removed again), and vsce run in that folder, as `npm run package` does. The project's
 * dist/ is never touched, so tests running at the same time keep their bundles, and the test always exercises
 * the current source.
 */

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './workbench';

export async function packageVsix(): Promise<string> {
  const staging = mkdtempSync(join(tmpdir(), 'kube-netpath-vsix-'));
  for (const file of ['package.json', 'README.md', 'LICENSE', 'SECURITY.md', '.vscodeignore']) {
    if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(staging, file));
  }
  cpSync(join(ROOT, 'media'), join(staging, 'media'), { recursive: true });
  const linked = ['src', 'webview', 'scripts', 'node_modules'];
  for (const name of linked) symlinkSync(join(ROOT, name), join(staging, name));
  const built = spawnSync(process.execPath, ['scripts/build.mjs', '--production'], { cwd: staging, encoding: 'utf8', timeout: 120_000 });
  for (const name of linked) rmSync(join(staging, name));
  if (built.status !== 0) throw new Error(`the production build failed:\n${built.stdout}${built.stderr}`);
  const vsix = join(staging, 'kube-netpath.vsix');
  const vsce = join(ROOT, 'node_modules/@vscode/vsce/vsce');
  const result = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--skip-license', '--out', vsix], { cwd: staging, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`vsce package failed:\n${result.stdout}${result.stderr}`);
  return vsix;
}
