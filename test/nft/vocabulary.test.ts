import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash16 } from '../../bench/generator/chainNames';
import { readFileSync, readdirSync } from 'node:fs';
import { parseNft } from '../../src/core/nft/parseNft';
import { explainNftName, isKubeProxyTable, NFT_BASE_CHAINS, parseServiceChainName } from '../../src/core/nft/vocabulary';

test('per-Service chain names: kind, Service port name, endpoint', () => {
  assert.deepEqual(parseServiceChainName('service-ULMVA6XW-ns1/svc1/tcp/p80'), {
    kind: 'service', hash: 'ULMVA6XW', namespace: 'ns1', name: 'svc1', protocol: 'tcp', portName: 'p80', servicePortName: 'ns1/svc1:p80',
  });
  assert.deepEqual(parseServiceChainName('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80')?.endpoint, { ip: '10.180.0.1', port: 80 });
  assert.deepEqual(parseServiceChainName('endpoint-2CRNCTTE-ns1/svc1/tcp/p80__fd00.10.180..2.1/80')?.endpoint, { ip: 'fd00:10:180::2:1', port: 80 });
  assert.equal(parseServiceChainName('external-P6J77WGM-riset/hellopod-np-svc/tcp/')?.servicePortName, 'riset/hellopod-np-svc');
  assert.equal(parseServiceChainName('affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80')?.kind, 'affinity');
  assert.equal(parseServiceChainName('local-ABCDEFGH-ns/name/udp/dns')?.kind, 'local');
  assert.equal(parseServiceChainName('firewall-HVFWP5L3-ns5/svc5/tcp/p80')?.kind, 'firewall');
  for (const name of ['services', 'service-lowercase-ns/a/tcp/p', 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80', 'service-5OJB2KTY-ns1/svc1/tcp/p80__10.0.0.1/80', 'KUBE-SVC-ABC']) {
    assert.equal(parseServiceChainName(name), undefined, name);
  }
});

test('the hash in every per-Service name of the fixtures is kube-proxy\'s base32(sha256) of the rest', () => {
  const folders = ['samples/nftables-kind', ...readdirSync('test/fixtures').filter((name) => name.startsWith('nft-') && name !== 'nft-sources').map((name) => `test/fixtures/${name}`)];
  let checked = 0;
  for (const folder of folders) {
    const { value } = parseNft(readFileSync(`${folder}/nft.txt`, 'utf8'));
    for (const name of value.tables.flatMap((table) => [...table.chains, ...table.sets].map((item) => item.name))) {
      const parsed = parseServiceChainName(name);
      if (!parsed) continue;
      const rest = name.slice(name.indexOf('-', parsed.kind.length + 1) + 1);
      // nftables mode keeps the first 8 of the 16 characters iptables mode uses.
      assert.equal(parsed.hash, hash16(rest).slice(0, 8), name);
      checked++;
    }
  }
  assert.ok(checked > 50, `${checked} names checked`);
});

test('every kube-proxy name from proxier.go has a one-sentence explanation', () => {
  const names = [
    'filter-prerouting', 'filter-prerouting-pre-dnat', 'filter-input', 'filter-forward', 'filter-output', 'filter-output-pre-dnat',
    'filter-output-post-dnat', 'nat-prerouting', 'nat-output', 'nat-postrouting', 'services', 'masquerading', 'mark-for-masquerade',
    'firewall-check', 'service-endpoints-check', 'nodeport-endpoints-check', 'cluster-ips-check', 'reject-chain', 'service-ips',
    'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports', 'firewall-ips', 'cluster-ips', 'nodeport-ips',
    'service-ULMVA6XW-ns1/svc1/tcp/p80', 'local-ULMVA6XW-ns1/svc1/tcp/p80', 'external-ULMVA6XW-ns1/svc1/tcp/p80',
    'firewall-ULMVA6XW-ns1/svc1/tcp/p80', 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80', 'affinity-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
  ];
  for (const name of names) {
    const text = explainNftName(name);
    assert.ok(text, name);
    assert.match(text, /^[A-Z][^]*\.$/, name);
  }
  assert.match(explainNftName('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80')!, /10\.180\.0\.1:80/);
  assert.match(explainNftName('service-ULMVA6XW-ns1/svc1/tcp/p80')!, /ns1\/svc1:p80/);
  assert.equal(explainNftName('INPUT'), undefined);
  // Every base chain of a real kube-proxy table is known to the vocabulary.
  const { value } = parseNft(readFileSync('samples/nftables-kind/nft.txt', 'utf8'));
  for (const chain of value.tables[0].chains.filter((candidate) => candidate.base)) assert.ok(NFT_BASE_CHAINS[chain.name], chain.name);
});

test('only ip and ip6 tables named kube-proxy are kube-proxy\'s', () => {
  assert.equal(isKubeProxyTable({ family: 'ip', name: 'kube-proxy' }), true);
  assert.equal(isKubeProxyTable({ family: 'ip6', name: 'kube-proxy' }), true);
  assert.equal(isKubeProxyTable({ family: 'inet', name: 'kube-proxy' }), false);
  assert.equal(isKubeProxyTable({ family: 'ip', name: 'kube-proxy-extra' }), false);
});
