import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPacket, handleWebviewMessage, parseWebviewMessage, type TraceHandlers } from '../../src/extension/trace/panelMessages';
import { panelCsp, panelHtml } from '../../src/extension/trace/panelHtml';
import { PanelClient } from '../../webview/rpc';
import type { HostToWebview, TraceView } from '../../src/protocol/traceMessages';

const view: TraceView = { snapshotName: 'n', packet: { src: '10.244.1.100', dst: '10.96.0.10', proto: 'udp', sport: 40000, dport: 53 }, services: [], result: null, error: null };

function handlers(overrides: Partial<TraceHandlers> = {}): TraceHandlers & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    trace: (packet) => {
      calls.push(`trace ${packet.dst}:${packet.dport}`);
      return { ...view, packet };
    },
    openRule: ({ table, line }) => {
      calls.push(`open ${table}:${line}`);
      return true;
    },
    copyMarkdown: () => true,
    ...overrides,
  };
}

test('ready is answered with the current view', async () => {
  const reply = await handleWebviewMessage({ type: 'ready' }, handlers(), () => ({ type: 'show', view }));
  assert.deepEqual(reply, { type: 'show', view });
});

test('a trace request runs the tracer and replies with its id', async () => {
  const h = handlers();
  const packet = { src: '10.0.0.11', dst: '10.96.120.15', proto: 'tcp', sport: 1234, dport: 80 };
  const reply = await handleWebviewMessage({ type: 'request', id: 7, method: 'trace', params: packet }, h, () => undefined);
  assert.equal(reply?.type, 'reply');
  assert.equal((reply as { id: number }).id, 7);
  assert.deepEqual(h.calls, ['trace 10.96.120.15:80']);
});

test('a malformed packet gets an error reply and never reaches the tracer', async () => {
  const h = handlers();
  for (const params of [null, { src: '<script>', dst: '1.1.1.1', proto: 'tcp', sport: 1, dport: 1 }, { src: '1.1.1.1', dst: '1.1.1.1', proto: 'icmp', sport: 1, dport: 1 }, { src: '1.1.1.1', dst: '1.1.1.1', proto: 'tcp', sport: 1, dport: 70000 }]) {
    const reply = await handleWebviewMessage({ type: 'request', id: 1, method: 'trace', params }, h, () => undefined);
    assert.ok(reply && 'error' in reply, JSON.stringify(params));
  }
  assert.deepEqual(h.calls, []);
  assert.equal(typeof checkPacket({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'sctp', sport: 0, dport: 65535 }), 'object');
});

test('a failing handler becomes an error reply with its message', async () => {
  const h = handlers({ copyMarkdown: () => { throw new Error('There is no trace to copy yet.'); } });
  const reply = await handleWebviewMessage({ type: 'request', id: 3, method: 'copyMarkdown', params: {} }, h, () => undefined);
  assert.deepEqual(reply, { type: 'reply', id: 3, error: 'There is no trace to copy yet.' });
});

test('unknown and malformed messages are ignored', async () => {
  for (const message of [undefined, 'ready', { type: 'request', id: 'x', method: 'trace' }, { type: 'request', id: 1, method: 'deleteEverything' }, { type: 'request', id: 1, method: 'openRule', params: { table: 'nat', line: 0 } }]) {
    assert.equal(parseWebviewMessage(message), undefined, JSON.stringify(message));
  }
  const h = handlers();
  assert.equal(await handleWebviewMessage({ type: 'request', id: 1, method: 'openRule', params: { table: 'nat', line: -4 } }, h, () => undefined), undefined);
  assert.deepEqual(h.calls, []);
});

test('the CSP allows only the nonce script and the extension\'s styles', () => {
  const csp = panelCsp({ cspSource: 'https://file+.vscode-resource.example', nonce: 'abc123' });
  assert.match(csp, /^default-src 'none';/);
  assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.match(csp, /style-src https:\/\/file\+\.vscode-resource\.example(;|$)/);
});

test('the HTML shell has one script, carrying the nonce, and escapes its attributes', () => {
  const html = panelHtml({ cspSource: 'vscode-resource:', nonce: 'n0nce', scriptUri: 'vscode-resource:/dist/webview.js?a="b"', styleUri: 'vscode-resource:/media/trace.css' });
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]!, /nonce="n0nce"/);
  assert.match(html, /src="vscode-resource:\/dist\/webview\.js\?a=&quot;b&quot;"/);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  assert.doesNotMatch(html, /<script[^>]*>[^<]+<\/script>/, 'no inline script body');
});

test('the webview client matches replies to requests by id', async () => {
  const posted: unknown[] = [];
  const shown: TraceView[] = [];
  const client = new PanelClient({ postMessage: (message) => posted.push(message) }, (next) => shown.push(next));
  client.ready();
  const first = client.request('openRule', { table: 'nat', line: 12 });
  const second = client.request('copyMarkdown', {});
  assert.deepEqual(posted[0], { type: 'ready' });
  const ids = posted.slice(1).map((message) => (message as { id: number }).id);
  assert.notEqual(ids[0], ids[1]);
  client.receive({ type: 'reply', id: ids[1], error: 'nothing to copy' } satisfies HostToWebview);
  client.receive({ type: 'reply', id: ids[0], result: true } satisfies HostToWebview);
  client.receive({ type: 'show', view } satisfies HostToWebview);
  assert.equal(await first, true);
  await assert.rejects(second, /nothing to copy/);
  assert.deepEqual(shown, [view]);
});

test('openRule passes a step\'s file along and refuses a file that is not a string', async () => {
  const opened: unknown[] = [];
  const h = handlers({ openRule: (params) => { opened.push(params); return true; } });
  await handleWebviewMessage({ type: 'request', id: 1, method: 'openRule', params: { table: 'ipvs', line: 4, file: 'ipvsadm.txt' } }, h, () => undefined);
  assert.deepEqual(opened, [{ table: 'ipvs', line: 4, file: 'ipvsadm.txt' }]);
  assert.equal(parseWebviewMessage({ type: 'request', id: 2, method: 'openRule', params: { table: 'nat', line: 3, file: { path: '/etc/passwd' } } }), undefined);
});
