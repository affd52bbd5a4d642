import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { explainNftAt } from '../../src/core/nft/explainNft';
import { parseNft } from '../../src/core/nft/parseNft';
import { buildNftServiceTree } from '../../src/core/services/nftServiceTree';

const text = readFileSync('samples/nftables-kind/nft.txt', 'utf8');
const lines = text.split('\n');
const services = buildNftServiceTree(parseNft(text).value);

/** The hover for the first occurrence of `word` on the first line that contains `lineHas`. */
function hover(lineHas: string, word: string) {
  const line = lines.find((candidate) => candidate.includes(lineHas));
  assert.ok(line, lineHas);
  const column = line.indexOf(word) + 1;
  assert.ok(column > 0, word);
  const explanation = explainNftAt(line, column, services);
  // The explained span is the word under the cursor.
  if (explanation) assert.ok(explanation.start < column && column < explanation.end && line.slice(explanation.start, explanation.end).includes(word));
  return explanation?.markdown;
}

test('kube-proxy names explain themselves and name their Service', () => {
  assert.match(hover('vmap @service-ips', '@service-ips')!, /^`service-ips`: Verdict map/);
  const serviceChain = hover('chain service-SUSTUHLJ-default/web/tcp/http', 'service-SUSTUHLJ')!;
  assert.match(serviceChain, /Cluster\\-policy chain of Service default\/web:http/);
  assert.match(serviceChain, /Service \*\*default\/web:http\*\*: ClusterIP 10\\\.96\\\.100\\\.10:80/);
  assert.match(hover('chain nat-prerouting', 'nat-prerouting')!, /Base nat chain at prerouting/);
});

test('marks, priorities, hooks and keywords', () => {
  assert.match(hover('meta mark | 0x00004000', '0x00004000')!, /masquerade bit/);
  assert.match(hover('hook prerouting priority dstnat - 10', 'dstnat')!, /Priority `dstnat - 10` = -110/);
  assert.match(hover('hook prerouting priority dstnat - 10', 'prerouting')!, /prerouting hook/);
  assert.match(hover('hook postrouting priority srcnat', 'srcnat')!, /= 100/);
  assert.match(hover('numgen random mod 3', 'numgen')!, /1\/N of new connections/);
  assert.match(hover('masquerade fully-random', 'fully-random')!, /source port/);
});

test('addresses: a map element names its Service port by protocol, a dnat target its Service', () => {
  const element = hover('10.96.0.10 . udp . 53 :', '10.96.0.10')!;
  assert.match(element, /kube\\-dns:dns\*\*/);
  assert.doesNotMatch(element, /dns\\-tcp/);
  assert.match(hover('dnat to 10.244.1.6:8080', '10.244.1.6:8080')!, /Endpoint of \*\*default\/shop:http\*\*/);
  assert.equal(hover('elements = { 172.18.0.2 }', '172.18.0.2'), undefined);
});

test('Service names from the node are escaped', () => {
  const hostile = text.replace('comment "default/empty:http" : goto reject-chain }\n\t}\n\n\tmap no-endpoint-nodeports', 'comment "default/<img_src=x>:http" : goto reject-chain }\n\t}\n\n\tmap no-endpoint-nodeports');
  assert.notEqual(hostile, text);
  const tree = buildNftServiceTree(parseNft(hostile).value);
  const line = hostile.split('\n').find((candidate) => candidate.includes('10.96.50.50 . tcp . 80'))!;
  const markdown = explainNftAt(line, line.indexOf('10.96.50.50') + 1, tree)!.markdown;
  assert.match(markdown, /&lt;img\\_src=x&gt;/);
  assert.doesNotMatch(markdown, /<img/);
});
