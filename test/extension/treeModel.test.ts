import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childrenOf, describeElement, GROUP_THRESHOLD, type TreeElement, type TreeState } from '../../src/extension/tree/treeModel';
import type { ServiceInfo, ServiceTree } from '../../src/core/services/model';
import { loadShop, SHOP } from './helpers';

async function shopState(filter = ''): Promise<TreeState> {
  const analysis = await loadShop();
  return { snapshots: [{ id: SHOP, name: 'worker-1', folder: SHOP, services: analysis.services, error: null, warnings: [] }], hosts: ['node-2'], filter };
}

function labels(state: TreeState, elements: TreeElement[]): string[] {
  return elements.map((element) => describeElement(state, element).label);
}

test('roots are the snapshots, then the hosts from settings', async () => {
  const state = await shopState();
  const roots = childrenOf(state);
  assert.deepEqual(roots.map((root) => root.kind), ['snapshot', 'host']);
  const snapshot = describeElement(state, roots[0]!);
  assert.match(snapshot.description!, /^iptables · \d+ Services$/);
  assert.equal(describeElement(state, roots[1]!).contextValue, 'host');
});

test('a snapshot lists its Services with ClusterIP, NodePort and mode', async () => {
  const state = await shopState();
  const services = childrenOf(state, childrenOf(state)[0]);
  const web = services.find((element) => describeElement(state, element).label === 'shop/web:http')!;
  const view = describeElement(state, web);
  assert.equal(view.contextValue, 'service');
  assert.match(view.description!, /10\.96\.120\.15/);
  assert.match(view.description!, /NodePort 30080/);
  assert.match(view.description!, /\[iptables\]/);
  assert.equal(view.collapsible, 'collapsed');
});

test('a Service without endpoints gets a warning icon and says so', async () => {
  const state = await shopState();
  const cart = childrenOf(state, childrenOf(state)[0]).find((element) => describeElement(state, element).label === 'shop/cart:http')!;
  const view = describeElement(state, cart);
  assert.equal(view.icon, 'warning');
  assert.match(view.tooltip!, /no endpoints/);
});

test('the path under a Service leads to endpoints with their shares', async () => {
  const state = await shopState();
  const web = childrenOf(state, childrenOf(state)[0]).find((element) => describeElement(state, element).label === 'shop/web:http')!;
  const seen: string[] = [];
  const walk = (element: TreeElement, depth: number) => {
    if (depth > 6) return;
    const view = describeElement(state, element);
    seen.push(`${view.label} ${view.description ?? ''}`);
    for (const child of childrenOf(state, element)) walk(child, depth + 1);
  };
  for (const child of childrenOf(state, web)) walk(child, 0);
  const endpoints = seen.filter((line) => /→ 10\.244\.\d\.\d:8080/.test(line));
  assert.equal(endpoints.length, 3, seen.join('\n'));
  for (const line of endpoints) assert.match(line, /33\.3%/);
  assert.ok(seen.some((line) => line.startsWith('KUBE-SVC-7EJNTS7AENER2WX5')), seen.join('\n'));
});

test('the filter keeps Services whose name or address matches', async () => {
  const state = await shopState('kube-dns');
  const names = labels(state, childrenOf(state, childrenOf(state)[0]));
  assert.deepEqual(names.sort(), ['kube-system/kube-dns:dns', 'kube-system/kube-dns:dns-tcp']);
  const byAddress = await shopState('10.96.120.15');
  assert.deepEqual(labels(byAddress, childrenOf(byAddress, childrenOf(byAddress)[0])), ['shop/web:http']);
  const none = await shopState('no-such-service');
  assert.match(labels(none, childrenOf(none, childrenOf(none)[0]))[0]!, /No Service matches/);
});

test('thousands of Services are grouped by namespace so each level stays short', () => {
  const service = (namespace: string, index: number): ServiceInfo => ({
    id: `${namespace}/svc-${index}:http`, namespace, name: `svc-${index}`, portName: 'http', protocol: 'tcp',
    clusterIP: { ip: `10.96.${index >> 8}.${index & 255}`, port: 80 }, nodePort: null, externalIPs: [], loadBalancerIPs: [],
    sourceRanges: [], externalTrafficPolicy: null, internalTrafficPolicy: null, sessionAffinitySeconds: null,
    endpoints: [], path: [], warnings: [],
  });
  const services: ServiceInfo[] = [];
  for (let index = 0; index < 10_000; index++) services.push(service(`ns-${index % 50}`, index));
  const tree: ServiceTree = { mode: 'iptables', services, warnings: [] };
  const state: TreeState = { snapshots: [{ id: 'big', name: 'big', folder: '/big', services: tree, error: null, warnings: [] }], hosts: [], filter: '' };
  assert.ok(services.length > GROUP_THRESHOLD);
  const namespaces = childrenOf(state, childrenOf(state)[0]);
  assert.equal(namespaces.length, 50);
  assert.equal(namespaces[0]!.kind, 'namespace');
  assert.equal(describeElement(state, namespaces[0]!).description, '200 Services');
  assert.equal(childrenOf(state, namespaces[0]).length, 200);
});

test('a snapshot that could not be read shows why', () => {
  const state: TreeState = { snapshots: [{ id: '/x', name: 'x', folder: '/x', services: null, error: 'route-local.txt is missing', warnings: [] }], hosts: [], filter: '' };
  const root = childrenOf(state)[0]!;
  assert.equal(describeElement(state, root).icon, 'warning');
  assert.deepEqual(labels(state, childrenOf(state, root)), ['route-local.txt is missing']);
});
