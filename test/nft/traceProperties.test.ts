import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { parseNft } from '../../src/core/nft/parseNft';
import { traceNft } from '../../src/core/nft/traceNft';
import { parseRouteLocal } from '../../src/core/routes/localRoutes';

// For any packet, on every text fixture: at least one outcome, shares that sum to 1, and every step and
// deciding rule quoting the line it names. (JSON fixtures have everything on line 1.)
const folders = [
  'samples/nftables-kind',
  ...readdirSync('test/fixtures')
    .filter((name) => name.startsWith('nft-') && name !== 'nft-sources' && !name.startsWith('nft-json-'))
    .map((name) => `test/fixtures/${name}`),
];

for (const folder of folders) {
  test(`${folder}: any packet gets outcomes that sum to 1 and steps that quote their lines`, () => {
    const text = readFileSync(`${folder}/nft.txt`, 'utf8');
    const lines = text.split('\n');
    const nft = parseNft(text).value;
    const routes = parseRouteLocal(readFileSync(`${folder}/route-local.txt`, 'utf8')).value;
    // Addresses the ruleset mentions, plus node addresses and strangers.
    const mentioned = [...new Set(text.match(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g) ?? [])];
    const v6 = [...new Set(text.match(/\b[0-9a-f]{1,4}:[0-9a-f:]*:[0-9a-f]{1,4}\b/g) ?? [])];
    const addresses = [...mentioned, ...v6, '203.0.113.2', '198.51.100.9', '127.0.0.1'];
    const ports = [...new Set((text.match(/\b\d{2,5}\b/g) ?? []).map(Number).filter((port) => port > 0 && port < 65536))].slice(0, 200);
    fc.assert(
      fc.property(
        fc.constantFrom(...addresses),
        fc.constantFrom(...addresses),
        fc.constantFrom(...ports, 1, 65535),
        fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
        (src, dst, dport, proto) => {
          if (src.includes(':') !== dst.includes(':')) return;
          const entry = routes.isLocal(src) ? 'OUTPUT' : 'PREROUTING';
          const result = traceNft({ nft, routes }, { src, dst, dport, proto, sport: 40000 }, entry);
          assert.ok(result.outcomes.length > 0);
          const total = result.outcomes.reduce((sum, outcome) => sum + outcome.probability, 0);
          assert.ok(Math.abs(total - 1) < 1e-9, `shares sum to ${total}`);
          for (const outcome of result.outcomes) {
            for (const step of outcome.steps) {
              if (step.rule.startsWith('chain ')) assert.match(lines[step.line - 1], new RegExp(`^\\tchain \\S+ \\{$`));
              else assert.equal(lines[step.line - 1].trim(), step.rule);
            }
            if (outcome.decidedBy) assert.equal(lines[outcome.decidedBy.line - 1].trim(), outcome.decidedBy.rule);
            assert.ok(outcome.probability > 0);
            // Only rules decide drops and rejects here: none of these rulesets has a drop policy on the way.
            if (outcome.verdict !== 'ACCEPT' && !folder.endsWith('foreign-tables')) assert.notEqual(outcome.decidedBy, null);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
}
