// Tests of the large-snapshot generator (bench/generator): kube-proxy's chain names and probabilities,
// determinism, large-cluster comment omission, and acceptance by the real iptables-restore and ipset
// inside throwaway network namespaces (skipped with a reason when not root or the tools are missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointChainName, serviceChainName } from '../../bench/generator/chainNames';
import { kernelProbability, kubeProxyProbability, savedProbability } from '../../bench/generator/probability';
import { generateSnapshot } from '../../bench/generator/snapshot';
import { LARGE_CLUSTER_ENDPOINTS_THRESHOLD } from '../../bench/generator/iptablesMode';
import { nativeUnavailableReason, runInNetns, withNetns } from '../../bench/native/netns';

const nativeSkip = nativeUnavailableReason() ?? false;

function rulesOf(text: string, chainPrefix: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`-A ${chainPrefix}`));
}

/** Drops what iptables-save varies between runs: header/footer comments and built-in chain counters. */
function normalizeSave(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .map((line) => line.replace(/^(:[A-Z]+ (?:ACCEPT|DROP)) \[\d+:\d+\]$/, '$1'))
    .join('\n');
}

test('chain names hash like kube-proxy (names taken from a real iptables-save capture)', () => {
  assert.equal(serviceChainName('KUBE-SVC-', 'default/kubernetes:https', 'tcp'), 'KUBE-SVC-NPX46M4PTMTKRN6Y');
  assert.equal(serviceChainName('KUBE-SVC-', 'kube-system/kube-dns:dns', 'udp'), 'KUBE-SVC-TCOU7JCQXEZGVUNU');
  assert.equal(serviceChainName('KUBE-SVC-', 'default/nginx-service', 'tcp'), 'KUBE-SVC-V2OKYYMBY3REGZOG');
  assert.equal(endpointChainName('default/nginx-basic:http', 'tcp', '192.168.0.7:80'), 'KUBE-SEP-BEMSLTMJA26ZCLYL');
  assert.equal(endpointChainName('kube-system/kube-dns:dns', 'udp', '192.168.0.6:53'), 'KUBE-SEP-NGZXZA7GIJDM26Z3');
  assert.equal(endpointChainName('default/nginx-service', 'tcp', '10.244.0.27:80'), 'KUBE-SEP-POZMZY2HDLRATSJV');
});

test('probabilities: Go %0.10f of 1/n, stored as lround(p * 2^31), printed with %.11f', () => {
  assert.equal(kubeProxyProbability(3), '0.3333333333');
  assert.equal(savedProbability('0.3333333333'), '0.33333333349');
  assert.equal(savedProbability(kubeProxyProbability(5)), '0.20000000019');
  assert.equal(savedProbability(kubeProxyProbability(2)), '0.50000000000');
  // 1/2048 and 1/4096 are exact ties at the last digit: both Go and glibc round them half to even.
  assert.equal(kubeProxyProbability(2048), '0.0004882812');
  assert.equal(savedProbability(kubeProxyProbability(4096)), '0.00024414062');
  for (let n = 2; n <= 300; n++) {
    const saved = savedProbability(kubeProxyProbability(n));
    assert.equal(Math.round(Number(saved) * 2 ** 31), kernelProbability(kubeProxyProbability(n)), `n=${n}`);
  }
});

test('probabilities match what iptables-save prints back after loading kube-proxy\'s text', { skip: nativeSkip }, () => {
  const counts = [...Array.from({ length: 60 }, (_, i) => i + 2), 97, 128, 999, 1000, 2048, 4096];
  const lines = ['*nat', ':KUBE-SVC-TEST - [0:0]', ':KUBE-SEP-TEST - [0:0]'];
  for (const n of counts) lines.push(`-A KUBE-SVC-TEST -m statistic --mode random --probability ${kubeProxyProbability(n)} -j KUBE-SEP-TEST`);
  lines.push('COMMIT', '');
  const printed = withNetns((netns) => {
    const loaded = runInNetns(netns, ['iptables-restore'], lines.join('\n'));
    assert.equal(loaded.status, 0, loaded.stderr);
    return runInNetns(netns, ['iptables-save', '-t', 'nat']).stdout;
  });
  const readBack = [...printed.matchAll(/--probability (\S+)/g)].map((match) => match[1]);
  assert.deepEqual(readBack, counts.map((n) => savedProbability(kubeProxyProbability(n))));
});

test('one seed gives byte-identical snapshots; another seed gives other names', () => {
  const first = generateSnapshot({ services: 200, endpoints: 4, seed: 42, mode: 'iptables' });
  const again = generateSnapshot({ services: 200, endpoints: 4, seed: 42, mode: 'iptables' });
  const other = generateSnapshot({ services: 200, endpoints: 4, seed: 43, mode: 'iptables' });
  assert.deepEqual(again.files, first.files);
  const chains = (text: string): Set<string> => new Set(text.split('\n').filter((l) => l.startsWith(':KUBE-SVC-')));
  const firstChains = chains(first.files['iptables-save.txt'] ?? '');
  const otherChains = chains(other.files['iptables-save.txt'] ?? '');
  assert.equal(firstChains.size, first.cluster.services.filter((service) => service.endpoints.length > 0).length);
  // Only the fixed Services (API server, DNS) are shared between the two seeds.
  assert.equal([...otherChains].filter((chain) => firstChains.has(chain)).length, 4);
  const ipvs = generateSnapshot({ services: 200, endpoints: 4, seed: 42, mode: 'ipvs' });
  assert.deepEqual(generateSnapshot({ services: 200, endpoints: 4, seed: 42, mode: 'ipvs' }).files, ipvs.files);
});

test('every Service port gets its KUBE-SVC chain, endpoints their KUBE-SEP chains, no-endpoint Services a REJECT', () => {
  const { cluster, files } = generateSnapshot({ services: 400, endpoints: 3, seed: 7, mode: 'iptables' });
  const text = files['iptables-save.txt'] ?? '';
  const withEndpoints = cluster.services.filter((service) => service.endpoints.length > 0);
  const without = cluster.services.filter((service) => service.endpoints.length === 0);
  assert.ok(without.length > 0 && cluster.services.some((s) => s.nodePort !== null));
  assert.ok(cluster.services.some((s) => s.externalTrafficPolicy === 'Local' && s.endpoints.some((e) => e.local)));
  for (const service of withEndpoints) {
    assert.ok(text.includes(`\n:${serviceChainName('KUBE-SVC-', service.id, service.protocol)} - [0:0]\n`), service.id);
    for (const endpoint of service.endpoints) {
      const sep = endpointChainName(service.id, service.protocol, `${endpoint.ip}:${endpoint.port}`);
      assert.ok(text.includes(`-A ${sep} -p ${service.protocol} `) && text.includes(`--to-destination ${endpoint.ip}:${endpoint.port}\n`));
    }
  }
  const rejects = rulesOf(text, 'KUBE-SERVICES').filter((rule) => rule.includes('has no endpoints'));
  assert.equal(rejects.length, without.length);
  for (const service of without) assert.ok(rejects.some((rule) => rule.startsWith(`-A KUBE-SERVICES -d ${service.clusterIP}/32 `)));
});

test(`comments on KUBE-SEP and endpoint rules are omitted above ${LARGE_CLUSTER_ENDPOINTS_THRESHOLD} endpoints`, () => {
  const small = generateSnapshot({ services: 150, endpoints: 5, seed: 3, mode: 'iptables' });
  const large = generateSnapshot({ services: 400, endpoints: 5, seed: 3, mode: 'iptables' });
  assert.ok(small.cluster.totalEndpoints <= LARGE_CLUSTER_ENDPOINTS_THRESHOLD);
  assert.ok(large.cluster.totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD);
  const smallText = small.files['iptables-save.txt'] ?? '';
  const largeText = large.files['iptables-save.txt'] ?? '';
  assert.ok(rulesOf(smallText, 'KUBE-SEP-').every((rule) => rule.includes(' -m comment --comment ')));
  assert.ok(rulesOf(largeText, 'KUBE-SEP-').every((rule) => !rule.includes('--comment')));
  const endpointRules = (text: string): string[] => rulesOf(text, 'KUBE-SVC-').filter((rule) => rule.includes('-j KUBE-SEP-'));
  assert.ok(endpointRules(smallText).every((rule) => rule.includes(' -> ')));
  assert.ok(endpointRules(largeText).every((rule) => !rule.includes('--comment')));
  // The Service-level rules keep their comments in large-cluster mode, as in kube-proxy.
  assert.ok(rulesOf(largeText, 'KUBE-SERVICES').every((rule) => rule.includes('--comment')));
});

test('iptables mode: the real iptables-restore accepts the file and iptables-save prints it back unchanged', { skip: nativeSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-gen-'));
  try {
    for (const [services, seed] of [[120, 11], [400, 12]] as const) {
      const text = generateSnapshot({ services, endpoints: 4, seed, mode: 'iptables' }).files['iptables-save.txt'] ?? '';
      const file = join(dir, `${services}.txt`);
      writeFileSync(file, text);
      withNetns((netns) => {
        const checked = runInNetns(netns, ['iptables-restore', '--test', file]);
        assert.equal(checked.status, 0, checked.stderr);
        const loaded = runInNetns(netns, ['iptables-restore', file]);
        assert.equal(loaded.status, 0, loaded.stderr);
        const printed = runInNetns(netns, ['iptables-save']).stdout;
        assert.equal(normalizeSave(printed), normalizeSave(text));
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IPVS mode: ipset.txt loads into the real ipset and the iptables-save then passes iptables-restore --test', { skip: nativeSkip }, () => {
  const { cluster, files } = generateSnapshot({ services: 300, endpoints: 3, seed: 5, mode: 'ipvs' });
  // Turn `ipset -L` back into `ipset restore` input: that only works if every header and member is valid.
  const restore: string[] = [];
  for (const block of (files['ipset.txt'] ?? '').trim().split('\n\n')) {
    const lines = block.split('\n');
    const field = (name: string): string => (lines.find((line) => line.startsWith(`${name}: `)) ?? '').slice(name.length + 2);
    restore.push(`create ${field('Name')} ${field('Type')} ${field('Header')}`);
    for (const member of lines.slice(lines.indexOf('Members:') + 1)) restore.push(`add ${field('Name')} ${member}`);
  }
  withNetns((netns) => {
    const sets = runInNetns(netns, ['ipset', 'restore'], restore.join('\n') + '\n');
    assert.equal(sets.status, 0, sets.stderr);
    const listed = runInNetns(netns, ['ipset', 'list', 'KUBE-CLUSTER-IP']).stdout;
    assert.match(listed, new RegExp(`Number of entries: ${cluster.services.length}\\n`));
    const checked = runInNetns(netns, ['iptables-restore', '--test'], files['iptables-save.txt']);
    assert.equal(checked.status, 0, checked.stderr);
  });
  const ipvsadm = files['ipvsadm.txt'] ?? '';
  for (const service of cluster.services) {
    assert.ok(ipvsadm.includes(`\n${service.protocol.toUpperCase()}  ${service.clusterIP}:${service.port} rr`), service.id);
    assert.ok((files['route-local.txt'] ?? '').includes(`local ${service.clusterIP} dev kube-ipvs0 `), service.id);
  }
});

/** nft prints hash-set and map elements in kernel order; sort them so two listings compare by content. */
function normalizeNft(text: string): string {
  return text.replace(/elements = \{ ([^}]*) \}/g, (_, body: string) => {
    const entries = body.split(/,\s+/).map((entry) => entry.trim());
    return `elements = { ${entries.sort().join(', ')} }`;
  });
}

test('nftables mode: nft loads nft.txt and lists the same ruleset back', { skip: nativeSkip }, () => {
  const { cluster, files } = generateSnapshot({ services: 150, endpoints: 3, seed: 9, mode: 'nftables' });
  const text = files['nft.txt'] ?? '';
  const listed = withNetns((netns) => {
    const loaded = runInNetns(netns, ['nft', '-f', '-'], text);
    assert.equal(loaded.status, 0, loaded.stderr);
    return runInNetns(netns, ['nft', 'list', 'ruleset']).stdout;
  });
  assert.equal(normalizeNft(listed), normalizeNft(text));
  for (const service of cluster.services.filter((s) => s.endpoints.length > 0)) {
    assert.ok(text.includes(`${service.clusterIP} . ${service.protocol} . ${service.port} : goto service-`), service.id);
  }
});
