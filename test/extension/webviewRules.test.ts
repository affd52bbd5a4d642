// The webview's own rules, checked by reading its source: the UI toolkit only under webview/components/, and
// no HTML parsing of strings anywhere (node text must go in through textContent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const WEBVIEW = join(import.meta.dirname, '../../webview');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('the UI toolkit is imported only under webview/components/', () => {
  const offenders = sources(WEBVIEW).filter((file) => !relative(WEBVIEW, file).startsWith('components/') && /@vscode\/webview-ui-toolkit/.test(readFileSync(file, 'utf8')));
  assert.deepEqual(offenders, []);
  assert.ok(sources(WEBVIEW).some((file) => /@vscode\/webview-ui-toolkit/.test(readFileSync(file, 'utf8'))), 'the toolkit is used');
});

test('no webview code parses strings as HTML', () => {
  const pattern = /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser/;
  const offenders = sources(WEBVIEW).filter((file) => pattern.test(readFileSync(file, 'utf8')));
  assert.deepEqual(offenders, []);
});
