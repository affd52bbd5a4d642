// Type-checks every folder with its own tsconfig, so each folder is held to its own rules
// (src/core and src/protocol without Node types, webview with the DOM, the rest with Node).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const projects = ['src/core', 'src/protocol', 'src/node', 'src/cli', 'src/extension', 'webview', 'test', 'bench'];
let failed = false;
for (const project of projects) {
  const config = `${project}/tsconfig.json`;
  if (!existsSync(config)) continue;
  const result = spawnSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`typecheck: ${config} has type errors`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
