/**
 * Shared by `netpath services` and `netpath trace`: reads the snapshot folder, analyses it, prints what the
 * parsers could not read to stderr (a few lines, each naming file and line), and refuses input that holds
 * nothing usable with one sentence.
 */

import { analyzeSnapshot, type Analysis } from '../core/analyze';
import { formatDiagnostic } from '../core/diagnostics';
import { readSnapshotFolder, SnapshotReadError } from '../node/snapshotFolder';
import { CliError, type CliIo } from './io';
import { safeText } from './terminalText';

const SHOWN_DIAGNOSTICS = 5;

export async function loadAnalysis(folder: string, io: CliIo): Promise<Analysis> {
  let snapshot;
  try {
    snapshot = await readSnapshotFolder(folder);
  } catch (error) {
    if (error instanceof SnapshotReadError) throw new CliError(error.message);
    throw error;
  }
  const analysis = analyzeSnapshot(snapshot);
  const iptablesText = snapshot.files['iptables-save.txt'];
  if (iptablesText !== undefined && iptablesText.trim() !== '' && analysis.iptables?.tables.size === 0 && !snapshot.files['nft.txt'] && !snapshot.files['ipvsadm.txt']) {
    const first = analysis.diagnostics.find((d) => d.file === 'iptables-save.txt' && d.severity !== 'info');
    const where = first ? `${folder}/${formatDiagnostic(first)}` : `${folder}/iptables-save.txt`;
    throw new CliError(`${safeText(where)} (no iptables table could be read from the file).`);
  }
  const problems = analysis.diagnostics.filter((d) => d.severity !== 'info');
  for (const diagnostic of problems.slice(0, SHOWN_DIAGNOSTICS)) {
    io.stderr(`netpath: ${diagnostic.severity}: ${safeText(`${folder}/${formatDiagnostic(diagnostic)}`)}\n`);
  }
  if (problems.length > SHOWN_DIAGNOSTICS) {
    io.stderr(`netpath: … and ${problems.length - SHOWN_DIAGNOSTICS} more problems in the snapshot files.\n`);
  }
  if (!snapshot.complete) {
    io.stderr(`netpath: note: ${safeText(folder)} has no meta.json, so it is not a complete collection (or was assembled by hand).\n`);
  }
  return analysis;
}
