import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyService } from '../../src/core/services/emptyService';
import { lazyService } from '../../src/core/services/lazyService';

function draft() {
  const service = emptyService('shop/web:http', 'tcp');
  service.clusterIP = { ip: '10.96.0.9', port: 80 };
  service.source = { file: 'iptables-save.txt', line: 7 };
  return service;
}

test('a lazy Service computes its details once, on the first read of any of them', () => {
  let runs = 0;
  const service = lazyService(draft(), (details) => {
    runs++;
    details.endpoints.push({ ip: '10.0.0.1', port: 8080, share: 1 });
    details.externalTrafficPolicy = 'Local';
  });
  assert.equal(service.clusterIP?.ip, '10.96.0.9');
  assert.equal(runs, 0, 'first-level fields cost nothing');
  assert.equal(service.externalTrafficPolicy, 'Local');
  assert.equal(service.endpoints.length, 1);
  assert.equal(service.warnings.length, 0);
  assert.equal(runs, 1);
});

test('a lazy Service serialises, spreads and compares like the plain one, with the same key order', () => {
  const complete = (details: ReturnType<typeof draft>) => details.warnings.push('a warning');
  const plain = draft();
  complete(plain);
  const lazy = lazyService(draft(), complete);
  assert.equal(JSON.stringify(lazy), JSON.stringify(plain));
  assert.deepEqual({ ...lazy }, plain);
  assert.deepEqual(lazy, plain);
  assert.deepEqual(structuredClone(lazy), plain);
});
