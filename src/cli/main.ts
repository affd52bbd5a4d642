/**
 * The `netpath` command line: dispatches to collect, services and trace. Every failure the user can fix ends
 * as one sentence on stderr and exit code 2; unexpected failures say so without a stack trace.
 */

import { CliError, type CliIo } from './io';
import { runServices, SERVICES_USAGE } from './servicesCommand';
import { runTrace, TRACE_USAGE } from './traceCommand';
import { keepYoungGenerationSmall } from './youngGeneration';

const HELP = `netpath: where a Kubernetes Service packet goes on a node, rule by rule

usage: netpath collect <ssh-host> --out <dir> [--sudo] [--port N] [--user U] [--identity FILE] [--jump HOST] [--accept-new-host-key]
       ${SERVICES_USAGE.replace('usage: ', '')}
       ${TRACE_USAGE.replace('usage: ', '')}
`;

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'collect': {
        // Loaded on demand: the SSH stack is large and services/trace never need it.
        const { runCollect } = await import('./collectCommand');
        return await runCollect(rest, io);
      }
      case 'services':
        return await runServices(rest, io);
      case 'trace':
        return await runTrace(rest, io);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new CliError(`unknown command "${command}"; use collect, services or trace (netpath --help).`);
    }
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`netpath: ${error.message}\n`);
      return 2;
    }
    io.stderr(`netpath: internal error: ${(error as Error).message ?? String(error)}. Please report it with the snapshot folder.\n`);
    return 1;
  }
}

if (require.main === module) {
  keepYoungGenerationSmall();
  // A reader that stops early (`| head`, a closed `less`) got what it wanted: finish quietly, not with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
    drained: () => new Promise((resolve) => (process.stdout.writableNeedDrain ? process.stdout.once('drain', resolve) : resolve())),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`netpath: internal error: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
