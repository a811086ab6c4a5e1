/**
 * Runs the simulated line PLC on 127.0.0.1 until Ctrl-C.
 *
 *   node dist/tools/sim-plc.js [--port 4840] [--quiet]
 *
 * Prints `sim-plc: listening on <endpoint>` once, then every 5 s the PLC's counters (unless
 * --quiet). --port 0 picks a free port; the printed endpoint says which.
 */
import { SimPlc } from '../lib/plc/sim-plc';
import { errorMessage } from '../lib/util/errors';

const REPORT_EVERY_MS = 5000;

interface Args {
  port: number;
  quiet: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { port: 4840, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quiet') args.quiet = true;
    else if (a === '--port') args.port = Number(argv[++i]);
    else if (a?.startsWith('--port=')) args.port = Number(a.slice('--port='.length));
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node dist/tools/sim-plc.js [--port 4840] [--quiet]\n');
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${String(a)} (try --help)`);
    }
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    throw new Error('--port needs a whole number 0..65535');
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let plc: SimPlc | undefined;
  let report: NodeJS.Timeout | undefined;
  let stopping = false;
  // Signal handlers go in before anything is printed: whoever reads the endpoint line may send
  // SIGTERM straight away.
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    clearInterval(report);
    if (!args.quiet) process.stdout.write(`sim-plc: ${signal}, stopping\n`);
    (plc?.stop() ?? Promise.resolve()).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`sim-plc: stop failed: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  plc = await SimPlc.start({ port: args.port, host: '127.0.0.1' });
  if (stopping) {
    // A signal came while the server was starting; the handler found nothing to stop yet.
    await plc.stop();
    process.exit(0);
  }
  process.stdout.write(`sim-plc: listening on ${plc.endpointUrl}\n`);
  if (args.quiet) return;
  const running = plc;
  report = setInterval(() => {
    const c = running.counters();
    const line = `accepted=${c.accepted} rejected=${c.rejected} inspectorAlive=${c.inspectorAlive}`;
    process.stdout.write(`sim-plc: ${line}\n`);
  }, REPORT_EVERY_MS);
}

main().catch((err: unknown) => {
  process.stderr.write(`sim-plc: ${errorMessage(err)}\n`);
  process.exit(1);
});
