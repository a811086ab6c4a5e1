/**
 * The demo: a simulated PLC on 127.0.0.1 and Node-RED with the example flow, inspecting real
 * bottle images. Run through `scripts/demo.sh`, which sets the package up first.
 *
 *   node dist/tools/demo.js [--images DIR] [--port 1880] [--plc-port 4840]
 *
 * --images DIR replays DIR (laid out like examples/images) instead of the samples; --port is
 * Node-RED's port, --plc-port the simulated PLC's. The flow's endpoint, and the endpoint named in
 * the tab's description, are pointed at the PLC that was started.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SimPlc } from '../lib/plc/sim-plc';

const root = path.resolve(__dirname, '..', '..');

interface Args { images?: string; port: number; plcPort: number }

function parseArgs(argv: string[]): Args {
  const args: Args = { port: 1880, plcPort: 4840 };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--images': args.images = path.resolve(need(argv[i], value)); i++; break;
      case '--port': args.port = port(argv[i], value); i++; break;
      case '--plc-port': args.plcPort = port(argv[i], value); i++; break;
      default: fail(`unknown option ${argv[i]} (expected --images DIR, --port N, --plc-port N)`);
    }
  }
  return args;
}

function need(option: string, value: string | undefined): string {
  if (!value) fail(`${option} needs a value`);
  return value as string;
}

function port(option: string, value: string | undefined): number {
  const n = Number(need(option, value));
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${option} must be a port number 1..65535, got ${value}`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

/** The example flow, pointed at the PLC that was started and, if asked, at the user's images. */
function demoFlow(endpointUrl: string, images?: string): unknown[] {
  const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'flows', 'replay-line.json'), 'utf8')) as Record<string, unknown>[];
  for (const node of flow) {
    if (node.type === 'opcua-endpoint') node.endpoint = endpointUrl;
    // The tab's description names the default endpoint; name the one this demo started instead.
    if (node.type === 'tab' && typeof node.info === 'string') {
      node.info = node.info.replace(/opc\.tcp:\/\/[\w.-]+(?::\d+)?/g, endpointUrl);
    }
    for (const key of ['folder', 'teachFolder']) {
      const value = node[key];
      if (images && typeof value === 'string' && value.startsWith('@samples/')) {
        node[key] = path.join(images, value.slice('@samples/'.length));
      }
    }
  }
  return flow;
}

function prepareUserDir(dir: string, flow: unknown[], uiPort: number): void {
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  const link = path.join(dir, 'node_modules', 'node-red-contrib-bottle-inspection');
  fs.rmSync(link, { force: true, recursive: true });
  fs.symlinkSync(root, link, 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'bottle-inspection-demo', private: true,
    dependencies: { 'node-red-contrib-bottle-inspection': 'file:..' },
  }, null, 2));
  fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(flow, null, 2));
  fs.rmSync(path.join(dir, 'flows_cred.json'), { force: true });
  fs.writeFileSync(path.join(dir, 'settings.js'), `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${uiPort},
  flowFile: 'flows.json',
  credentialSecret: false,
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  editorTheme: { tours: false, projects: { enabled: false } },
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.images && !fs.existsSync(args.images)) fail(`image folder ${args.images} does not exist`);

  const plc = await SimPlc.start({ port: args.plcPort, host: '127.0.0.1' });
  process.stdout.write(`demo: simulated PLC at ${plc.endpointUrl}\n`);

  const userDir = path.join(root, '.demo');
  prepareUserDir(userDir, demoFlow(plc.endpointUrl, args.images), args.port);
  const redJs = require.resolve('node-red/red.js', { paths: [root] });
  const red = spawn(process.execPath, [redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
    stdio: 'inherit',
  });
  process.stdout.write(`demo: Node-RED starting at http://127.0.0.1:${args.port} (Ctrl+C stops both)\n`);

  const report = setInterval(() => {
    const c = plc.counters();
    process.stdout.write(`demo: PLC received ${c.accepted} accepts, ${c.rejected} rejects; inspector alive: ${c.inspectorAlive}\n`);
  }, 10_000);

  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    clearInterval(report);
    red.kill('SIGINT');
    void plc.stop().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  red.on('exit', (code) => stop(code ?? 0));
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
