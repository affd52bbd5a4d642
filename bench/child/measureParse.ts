/**
 * Benchmark child: parses one snapshot's iptables-save.txt once, in a fresh process, and prints the
 * wall and CPU time. bench.ts bundles it with esbuild and runs `node --expose-gc measureParse.js DIR`.
 */

import { parseIptablesSave } from '../../src/core/iptables/parseIptablesSave';
import { keepYoungGenerationSmall } from '../../src/cli/youngGeneration';
import { collectGarbage, printResult, readSnapshot, timed } from './childSupport';

// The V8 setting the netpath CLI makes, so parsing runs as in the CLI.
keepYoungGenerationSmall();

const dir = process.argv[2] ?? '';
const text = readSnapshot(dir).files['iptables-save.txt'] ?? '';
collectGarbage();
const parsed = timed(() => parseIptablesSave(text));
let rules = 0;
for (const table of parsed.value.value.tables.values()) for (const chain of table.chains.values()) rules += chain.rules.length;
printResult({
  parseWallMs: parsed.wallMs,
  parseCpuMs: parsed.cpuMs,
  rules,
  diagnostics: parsed.value.diagnostics.length,
});
