// Bundles the extension, the CLI and the webview with esbuild. Entry points that do not exist yet are skipped,
// so the build works while the project grows.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
const targets = [
  {
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'cpu-features', '*.node'],
  },
  {
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['cpu-features', '*.node'],
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
];
// The analysis worker is bundled first and handed to the extension's bundle as a string (it runs with
// `new Worker(code, { eval: true })`), so the extension stays the single dist/extension.js the .vsix ships.
const worker = await build({
  ...common,
  entryPoints: ['src/extension/analysis/analysisWorker.ts'],
  write: false,
  sourcemap: false,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
});
targets[0].define = { KUBE_NETPATH_ANALYSIS_WORKER: JSON.stringify(worker.outputFiles[0].text) };
for (const target of targets) {
  if (!target.entryPoints.every((entry) => existsSync(entry))) continue;
  await build({ ...common, ...target });
}
