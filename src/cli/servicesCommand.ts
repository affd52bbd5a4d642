/**
 * `netpath services <dir> [--json]`: the Services kube-proxy programmed on the node, with endpoints and shares.
 */

import { parseArgs } from 'node:util';
import { formatServices } from './formatServices';
import { CliError, type CliIo } from './io';
import { loadAnalysis } from './loadAnalysis';
import type { ServiceTree } from '../core/services/model';
import { safeJson } from './terminalText';

export const SERVICES_USAGE = 'usage: netpath services <dir> [--json]';

export async function runServices(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  } catch (error) {
    throw new CliError(`${(error as Error).message} (${SERVICES_USAGE})`);
  }
  const [folder, ...extra] = parsed.positionals;
  if (!folder || extra.length > 0) throw new CliError(`services needs exactly one snapshot folder (${SERVICES_USAGE}).`);
  const analysis = await loadAnalysis(folder, io);
  if (parsed.values.json) {
    await writeServicesJson(analysis.services, io);
  } else {
    io.stdout(formatServices(analysis));
  }
  return 0;
}

/**
 * Prints `{ mode, services, warnings }` exactly as one pretty-printed JSON document would be, one Service at a
 * time, waiting for a slow reader now and then: on a node with 10,000 Services the document is tens of megabytes,
 * and building it as one string (then escaping a copy) more than doubled the command's peak memory.
 */
async function writeServicesJson(tree: ServiceTree, io: CliIo): Promise<void> {
  const { mode, services, warnings } = tree;
  io.stdout(`{\n  "mode": ${safeJson(mode)},\n  "services": [`);
  for (let start = 0; start < services.length; start += SERVICES_PER_WRITE) {
    // Printed inside a document of the same shape, so the indentation is the whole document's; the items are cut out.
    const text = safeJson({ services: services.slice(start, start + SERVICES_PER_WRITE) });
    io.stdout(`${start === 0 ? '' : ','}${text.slice(text.indexOf('[') + 1, text.lastIndexOf('\n  ]'))}`);
    // A pipe to a slower reader (jq, less) would otherwise queue the whole document in memory.
    await io.drained?.();
  }
  const rest = safeJson({ services: [], warnings });
  io.stdout(`${services.length === 0 ? '' : '\n  '}]${rest.slice(rest.indexOf(','))}\n`);
}

const SERVICES_PER_WRITE = 100;
