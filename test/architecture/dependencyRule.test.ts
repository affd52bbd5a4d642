// Enforces DESIGN.md's dependency rule by reading every import in src/ and webview/:
// core → nothing outside core; node → core; cli → node, core; protocol → nothing; extension → node, core,
// protocol; webview → protocol. Only src/extension may import vscode.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(__dirname, '..', '..');

const ALLOWED: Record<string, string[]> = {
  'src/core': ['src/core'],
  'src/protocol': ['src/protocol'],
  'src/node': ['src/node', 'src/core'],
  'src/cli': ['src/cli', 'src/node', 'src/core'],
  'src/extension': ['src/extension', 'src/node', 'src/core', 'src/protocol'],
  webview: ['webview', 'src/protocol'],
};

/** Packages each folder may import besides its own folders (checked by name prefix). */
const FORBIDDEN_PACKAGES: Record<string, RegExp> = {
  'src/core': /^(vscode$|ssh2|ssh-config|node:|fs$|path$|os$|child_process$|@vscode\/)/,
  'src/protocol': /^(?!$)/,
  'src/node': /^vscode$/,
  'src/cli': /^vscode$/,
  webview: /^(vscode$|node:|ssh2)/,
};

function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) found.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  for (const match of text.matchAll(IMPORT)) specifiers.push(match[1] ?? match[2] ?? match[3] ?? match[4]);
  return specifiers;
}

function folderOf(file: string): string | undefined {
  const rel = relative(root, file).split('\\').join('/');
  return Object.keys(ALLOWED).find((folder) => rel === folder || rel.startsWith(`${folder}/`));
}

function violations(): string[] {
  const problems: string[] = [];
  for (const top of ['src', 'webview']) {
    for (const file of sourceFiles(join(root, top))) {
      const folder = folderOf(file);
      if (!folder) continue;
      for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
        const where = relative(root, file);
        if (specifier.startsWith('.')) {
          const target = folderOf(resolve(dirname(file), specifier));
          if (!target || !ALLOWED[folder].includes(target)) problems.push(`${where} imports ${specifier} (${target ?? 'outside the source folders'})`);
        } else if (FORBIDDEN_PACKAGES[folder]?.test(specifier)) {
          problems.push(`${where} imports the package ${specifier}`);
        } else if (specifier === 'vscode' && folder !== 'src/extension') {
          problems.push(`${where} imports vscode`);
        } else if (specifier.startsWith('@vscode/webview-ui-toolkit') && !relative(root, file).startsWith('webview/components')) {
          problems.push(`${where} imports the UI toolkit outside webview/components`);
        }
      }
    }
  }
  return problems;
}

test('every import in src/ and webview/ follows the dependency rule', () => {
  assert.deepEqual(violations(), []);
});

test('the import scanner sees every import form, so the rule above cannot pass by missing one', () => {
  const text = [
    "import type { A } from '../node/a';",
    "import { b } from 'vscode';",
    "export { c } from './c';",
    "import 'node:fs';",
    "const d = require('ssh2');",
    "const e = await import('../cli/e');",
  ].join('\n');
  assert.deepEqual(importsOf(text), ['../node/a', 'vscode', './c', 'node:fs', 'ssh2', '../cli/e']);
});
