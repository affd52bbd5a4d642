/**
 * `netpath services <dir> [--json]`: the Services kube-proxy programmed on the node, with endpoints and shares.
 */

import { parseArgs } from 'node:util';
import { formatServices } from './formatServices';
import { CliError, type CliIo } from './io';
import { loadAnalysis } from './loadAnalysis';
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
    io.stdout(`${safeJson({ mode: analysis.services.mode, services: analysis.services.services, warnings: analysis.services.warnings })}\n`);
  } else {
    io.stdout(formatServices(analysis));
  }
  return 0;
}
