/**
 * End to end: the packaged extension in code-server (VS Code 1.100.3) in headless chromium. Opens a snapshot
 * through the command's folder dialog, reads Services in the tree, traces one from the tree's context menu and
 * reads the outcome table in the panel, hovers a KUBE-SVC chain and a probability, goes to a chain's definition,
 * and checks that a rule comment full of markup is shown as text. Screenshots go to dist/e2e-screenshots/.
 */

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { sshdSkipReason, startSshd, type Sshd } from '../helpers/sshd';
import { packageVsix } from './packageVsix';
import { missingPrerequisite, ROOT, startWorkbench, type Workbench } from './workbench';

const missing = missingPrerequisite();
if (missing) console.log(`e2e skipped: ${missing}`);

const FIXTURE = join(ROOT, 'test/extension/fixtures/iptables-shop');
const SHOTS = join(ROOT, 'dist/e2e-screenshots');
const SNAPSHOT_NAME = 'shop-node';
const IPVS_SAMPLE = join(ROOT, 'samples/ipvs-seed003');
const fixtureLines = readFileSync(join(FIXTURE, 'iptables-save.txt'), 'utf8').split('\n');

/** 1-based line and column of `needle` on the first line containing `lineNeedle`. */
function positionOf(lineNeedle: string, needle: string): { line: number; column: number } {
  const index = fixtureLines.findIndex((line) => line.includes(lineNeedle));
  assert.ok(index >= 0, `fixture line with ${lineNeedle}`);
  return { line: index + 1, column: fixtureLines[index]!.indexOf(needle) + 1 };
}

describe('Kube Netpath in a VS Code web workbench', { skip: missing }, () => {
  let bench: Workbench;
  let page: Page;
  let sshd: Sshd | undefined;
  let vsix: string | undefined;
  const sshSkip = sshdSkipReason();
  const alerts: string[] = [];
  let shot = 0;

  async function screenshot(name: string): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    shot += 1;
    await page.screenshot({ path: join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`) });
  }

  async function quickPick(label: string): Promise<void> {
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await row.waitFor();
    await row.click();
  }

  async function goToLine(line: number, column: number): Promise<void> {
    await page.locator('.monaco-editor textarea').first().focus();
    await page.keyboard.press('Control+g');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`:${line}:${column}`);
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  async function hoverText(): Promise<string> {
    await page.keyboard.press('Control+k');
    await page.keyboard.press('Control+i');
    const hover = page.locator('.monaco-hover:not(.hidden) .hover-contents').first();
    await hover.waitFor({ timeout: 15_000 });
    return (await hover.innerText()).trim();
  }

  function panelFrame(): FrameLocator {
    return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  before(async () => {
    // A real sshd on 127.0.0.1 plays the node for Collect from Node: its wrapper answers the collector's
    // iptables-save and route commands with the fixture and reports the other tools as not installed.
    const sshFiles: Record<string, unknown> = {};
    if (!sshSkip) {
      sshd = await startSshd({
        wrapperPrelude: [
          'case "$SSH_ORIGINAL_COMMAND" in',
          `  iptables-nft-save*) cat '${FIXTURE}/iptables-save.txt'; exit 0 ;;`,
          `  "ip route show table local"*) cat '${FIXTURE}/route-local.txt'; exit 0 ;;`,
          '  "uname -n") echo worker-e2e; exit 0 ;;',
          '  iptables-legacy-save*|ip6tables*|ipvsadm*|ipset*|nft*|"ip route show table main"*|"ip -o addr"*) echo "sh: 1: not found" >&2; exit 127 ;;',
          'esac',
        ].join('\n'),
      });
      const sshConfig = join(sshd.dir, 'e2e_ssh_config');
      writeFileSync(sshConfig, [`Host e2e-node`, `  HostName 127.0.0.1`, `  Port ${sshd.port}`, '  User root', `  IdentityFile ${sshd.clientKeyPath}`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${join(sshd.dir, 'e2e_known_hosts')}`, ''].join('\n'));
      sshFiles['kubeNetpath.ssh.configFile'] = sshConfig;
      sshFiles['kubeNetpath.collect.outputFolder'] = join(sshd.dir, 'collected');
    }
    vsix = await packageVsix();
    bench = await startWorkbench({
      vsix,
      prepareWorkspace: (workspace) => {
        cpSync(FIXTURE, join(workspace, SNAPSHOT_NAME), { recursive: true });
        cpSync(IPVS_SAMPLE, join(workspace, 'ipvs-node'), { recursive: true });
      },
      settings: sshFiles,
    });
    page = bench.page;
    page.on('dialog', async (dialog) => {
      alerts.push(dialog.message());
      await dialog.dismiss();
    });
  });

  afterEach(async (context) => {
    // The state after each step, kept beside the named screenshots so a failure on CI can be seen.
    await screenshot(`after-${context.name.replace(/\W+/g, '-').slice(0, 40)}`);
  });

  after(async () => {
    await bench?.close();
    await sshd?.stop();
    if (vsix) rmSync(dirname(vsix), { recursive: true, force: true });
  });

  it('shows the welcome view and opens a snapshot folder through the dialog', async () => {
    await page.locator('.activitybar [aria-label^="Kube Netpath"]').first().click();
    // Widen the side bar so Service descriptions (ClusterIP, NodePort) are readable in the screenshots.
    const sidebar = await page.locator('.part.sidebar').boundingBox();
    if (sidebar) {
      await page.mouse.move(sidebar.x + sidebar.width + 1, sidebar.y + 300);
      await page.mouse.down();
      await page.mouse.move(sidebar.x + 520, sidebar.y + 300, { steps: 8 });
      await page.mouse.up();
    }
    const welcome = page.locator('.welcome-view-content', { hasText: 'No snapshot open yet' });
    await welcome.waitFor({ timeout: 30_000 });
    await screenshot('welcome');
    await welcome.locator('a.monaco-button, .monaco-button', { hasText: 'Open a Snapshot Folder' }).first().click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    // The simple file dialog fills in its own starting path a moment after it opens; type until ours stays.
    const target = `${join(bench.workspace, SNAPSHOT_NAME)}/`;
    for (let attempt = 0; attempt < 10; attempt++) {
      await input.fill(target);
      await page.waitForTimeout(700);
      if ((await input.inputValue()) === target) break;
    }
    assert.equal(await input.inputValue(), target);
    await screenshot('folder-dialog');
    await page.keyboard.press('Enter');
    const node = page.locator('.monaco-list-row', { hasText: 'worker-1' });
    await node.waitFor({ timeout: 30_000 });
    assert.match(await node.innerText(), /iptables/);
  });

  it('lists the Services with ClusterIP and NodePort', async () => {
    const web = page.locator('.monaco-list-row', { hasText: 'shop/web:http' });
    await web.waitFor();
    const text = await web.innerText();
    assert.match(text, /10\.96\.120\.15/);
    assert.match(text, /NodePort 30080/);
    assert.ok(await page.locator('.monaco-list-row', { hasText: 'kube-system/kube-dns:dns' }).count());
    await web.locator('.monaco-tl-twistie').click();
    const endpoint = page.locator('.monaco-list-row', { hasText: '10.244.2.6:8080' });
    await endpoint.waitFor({ timeout: 15_000 });
    assert.match(await endpoint.innerText(), /33\.3%/);
    assert.ok(await page.locator('.monaco-list-row', { hasText: 'KUBE-SVC-7EJNTS7AENER2WX5' }).count());
    await screenshot('tree');
  });

  it('traces a Service from the tree context menu and shows the outcome table', async () => {
    // On a busy machine the menu can close before the click lands; open the context menu again, up to four times.
    const portKind = page.locator('.quick-input-list .monaco-list-row', { hasText: 'ClusterIP' }).first();
    for (let attempt = 0; attempt < 4; attempt++) {
      await page.locator('.monaco-list-row', { hasText: 'shop/web:http' }).click({ button: 'right' });
      const item = page.locator('.context-view .action-item', { hasText: 'Trace This Service' }).first();
      await item.waitFor();
      await item.hover();
      await item.click();
      if (await portKind.waitFor({ timeout: 10_000 }).then(() => true, () => false)) break;
      await screenshot(`context-menu-attempt-${attempt + 1}`);
      await page.keyboard.press('Escape');
    }
    await quickPick('ClusterIP');
    await quickPick('A pod on this node');
    const rows = panelFrame().locator('#outcomes tbody tr');
    await rows.first().waitFor({ timeout: 30_000 });
    const texts = await rows.allInnerTexts();
    assert.equal(texts.length, 3, texts.join('\n'));
    const endpoints = texts.map((row) => /10\.244\.\d+\.\d+:8080/.exec(row)?.[0]).sort();
    assert.deepEqual(endpoints, ['10.244.1.5:8080', '10.244.2.6:8080', '10.244.3.7:8080']);
    for (const row of texts) assert.match(row, /33\.3%/);
    assert.match(texts[0]!, /ACCEPT/);
    await panelFrame().locator('.diagram .hook.visited', { hasText: 'PREROUTING' }).waitFor();
    await screenshot('trace-panel');
  });

  it('copies the trace as Markdown', async () => {
    await bench.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await panelFrame().locator('#copy').click();
    await panelFrame().locator('#status', { hasText: 'Copied the trace as Markdown.' }).waitFor({ timeout: 15_000 });
    const copied = String(await page.evaluate('navigator.clipboard.readText()'));
    assert.match(copied, /^## Trace: 10\\\.244\\\.1\\\.100:40000 → 10\\\.96\\\.120\\\.15:80\/tcp/m);
    assert.equal(copied.split('\n').filter((line) => /^\| 33\.3% \| ACCEPT \|/.test(line)).length, 3);
  });

  it('renders a rule comment full of markup as text', async () => {
    const frame = panelFrame();
    await frame.locator('#src').click();
    await frame.locator('#src input').fill('10.0.0.11');
    await frame.locator('#trace').click();
    const hostile = frame.locator('code.rule', { hasText: '<img src=x onerror=alert(1)>' });
    await hostile.first().waitFor({ timeout: 15_000 });
    await hostile.first().scrollIntoViewIfNeeded();
    assert.equal(await frame.locator('img').count(), 0);
    assert.deepEqual(alerts, []);
    await screenshot('hostile-comment-as-text');
  });

  it('opens a step\'s rule from the panel in iptables-save.txt', async () => {
    await panelFrame().locator('ol.steps a.rule-link', { hasText: 'KUBE-SVC-7EJNTS7AENER2WX5' }).first().click();
    await page.locator('.tab', { hasText: 'iptables-save.txt' }).waitFor({ timeout: 15_000 });
    await page.locator('.monaco-editor .view-line').first().waitFor();
  });

  it('explains a KUBE-SVC chain on hover', async () => {
    const at = positionOf(':KUBE-SVC-7EJNTS7AENER2WX5', 'KUBE-SVC');
    await goToLine(at.line, at.column + 2);
    const text = await hoverText();
    assert.match(text, /shop\/web:http/);
    assert.match(text, /ClusterIP 10\.96\.120\.15:80/);
    assert.match(text, /33\.3% of new connections/);
    await screenshot('hover-chain');
    await page.keyboard.press('Escape');
  });

  it('explains a probability as the endpoint\'s real share', async () => {
    const at = positionOf('--probability 0.50000000000', '0.50000000000');
    await goToLine(at.line, at.column + 2);
    const text = await hoverText();
    assert.match(text, /matches 50% of what reaches it/);
    assert.match(text, /33\.3%/);
    assert.match(text, /10\.244\.2\.6:8080/);
    await screenshot('hover-probability');
    await page.keyboard.press('Escape');
  });

  it('goes to a chain\'s definition', async () => {
    const jump = positionOf('"shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC', '-j KUBE-SVC-7EJNTS7AENER2WX5');
    await goToLine(jump.line, jump.column + 5);
    await page.keyboard.press('F12');
    const declaration = positionOf(':KUBE-SVC-7EJNTS7AENER2WX5', ':KUBE-SVC');
    await page.locator('.statusbar-item', { hasText: `Ln ${declaration.line},` }).first().waitFor({ timeout: 15_000 });
    await screenshot('definition');
  });

  it('explains ipvsadm output in a snapshot that is not in the tree', async () => {
    const lines = readFileSync(join(IPVS_SAMPLE, 'ipvsadm.txt'), 'utf8').split('\n');
    const virtual = lines.findIndex((line) => line.startsWith('TCP  172.18.13.113:8082 rr')) + 1;
    assert.ok(virtual > 0, 'the sample has the virtual server');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill('ipvs-node/ipvsadm.txt');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'ipvsadm.txt' }).first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Enter');
    await page.locator('.tab', { hasText: 'ipvsadm.txt' }).waitFor({ timeout: 15_000 });
    await page.locator('.statusbar-item', { hasText: /^ipvsadm$/ }).first().waitFor({ timeout: 15_000 });
    await goToLine(virtual, lines[virtual - 1]!.indexOf(' rr') + 2);
    assert.match(await hoverText(), /round robin/);
    await page.keyboard.press('Escape');
    await goToLine(virtual + 1, lines[virtual]!.indexOf('10.0.3.5') + 2);
    const share = await hoverText();
    assert.match(share, /weight 1 of 2/);
    assert.match(share, /50%/);
    await screenshot('hover-ipvsadm');
    await page.keyboard.press('Escape');
  });

  it('collects from a node over SSH after the user trusts its host key', { skip: sshSkip }, async () => {
    await page.locator('.part.sidebar .title-actions .action-label[aria-label="Collect from Node"]').first().click();
    await quickPick('e2e-node');
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Unknown host key' });
    await dialog.waitFor({ timeout: 30_000 });
    assert.match(await dialog.innerText(), /SHA256:/);
    await screenshot('collect-host-key');
    await dialog.locator('.monaco-button', { hasText: 'Trust and Connect' }).click();
    const collected = page.locator('.monaco-list-row', { hasText: 'worker-e2e' });
    await collected.waitFor({ timeout: 60_000 });
    assert.match(await collected.innerText(), /iptables · 5 Services/);
    const out = join(sshd!.dir, 'collected');
    assert.ok(existsSync(out) && readdirSync(out).some((name) => name.startsWith('e2e-node-')));
    await screenshot('collected');
  });
});
