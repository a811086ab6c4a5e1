/**
 * Launches the GigE Vision line simulator (sim/line-sim.c) with real bottle images.
 *
 *   node dist/tools/line-sim.js --camera ADDRESS:SERIAL:IMAGE_FOLDER [--camera ...]
 *        [--size 1600x1200] [--fps 28] [--trigger continuous|software] [--packet-size 8192]
 *        [--sim PATH]
 *
 * Decodes every image below each folder (sorted by path, subfolders included) with sharp, to
 * Mono8 and optionally resized to WxH, writes them as one frame file per camera in a temporary
 * folder, and runs the simulator on those files. Its stdout and stderr pass through, so the
 * `line-sim: camera SERIAL on ADDRESS, ...` lines tell when each camera serves. SIGINT/SIGTERM
 * stop it; the temporary folder is removed on exit. The simulator binary is built by
 * `make -C sim` (sim/build/line-sim); --sim or LINE_SIM_BIN point elsewhere.
 *
 * Run it inside a network namespace (`unshare -n`, then `ip link set lo up` and
 * `ip addr add 127.0.0.2/8 dev lo` for each extra camera address): Aravis's fake cameras answer
 * discovery broadcasts, and every GigE Vision program on the machine would see them.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import { listImages, loadImage } from '../lib/inspection/images';
import { errorMessage } from '../lib/util/errors';

export const FRAME_FILE_MAGIC = 'LSIMFRM1';
export const FRAME_FILE_HEADER_BYTES = 32;
/** PFNC code of Mono8, as GigE Vision sends it. */
export const PFNC_MONO8 = 0x01080001;

export interface FrameSet {
  width: number;
  height: number;
  /** Mono8 frames, width*height bytes each, in playing order. */
  frames: Buffer[];
  /** Where each frame came from. */
  sources: string[];
}

export interface CameraSpec {
  address: string;
  serial: string;
  folder: string;
}

export interface LineSimArgs {
  cameras: CameraSpec[];
  size?: { width: number; height: number };
  fps: number;
  trigger: 'continuous' | 'software';
  packetSize: number;
  sim: string;
}

/** The simulator binary `make -C sim` builds, unless LINE_SIM_BIN says otherwise. */
export function defaultSimBinary(): string {
  // dist/tools/line-sim.js -> repository root
  return process.env.LINE_SIM_BIN ?? path.resolve(__dirname, '..', '..', 'sim', 'build', 'line-sim');
}

/**
 * Decodes the images below `folder` to Mono8 frames of one size: `size` when given, else the
 * size of the first image (every other image must match it).
 */
export async function loadFrames(
  folder: string, size?: { width: number; height: number },
): Promise<FrameSet> {
  const files = await listImages(folder, { recursive: true });
  const frames: Buffer[] = [];
  let width = size?.width ?? 0;
  let height = size?.height ?? 0;
  for (const file of files) {
    const image = await loadImage(file, { grey: true, resize: size });
    if (frames.length === 0 && !size) {
      width = image.width;
      height = image.height;
    }
    if (image.width !== width || image.height !== height) {
      throw new Error(
        `${file} is ${image.width}x${image.height}, other frames are ${width}x${height}; ` +
          'give --size to resize them all',
      );
    }
    frames.push(image.pixels);
  }
  return { width, height, frames, sources: files };
}

/** The frame file header the simulator reads (see sim/line-sim.c). */
export function frameFileHeader(width: number, height: number, count: number): Buffer {
  const header = Buffer.alloc(FRAME_FILE_HEADER_BYTES);
  header.write(FRAME_FILE_MAGIC, 0, 'latin1');
  header.writeUInt32LE(FRAME_FILE_HEADER_BYTES, 8);
  header.writeUInt32LE(width, 12);
  header.writeUInt32LE(height, 16);
  header.writeUInt32LE(PFNC_MONO8, 20);
  header.writeUInt32LE(count, 24);
  header.writeUInt32LE(0, 28);
  return header;
}

export async function writeFrameFile(file: string, set: FrameSet): Promise<void> {
  const handle = await fs.open(file, 'w', 0o600);
  try {
    await handle.write(frameFileHeader(set.width, set.height, set.frames.length));
    for (const frame of set.frames) {
      if (frame.length !== set.width * set.height) {
        throw new Error(`a frame has ${frame.length} bytes, expected ${set.width}x${set.height}`);
      }
      await handle.write(frame);
    }
  } finally {
    await handle.close();
  }
}

function parseSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(text);
  const width = m ? Number(m[1]) : NaN;
  const height = m ? Number(m[2]) : NaN;
  if (!(width >= 1 && width <= 16384 && height >= 1 && height <= 16384)) {
    throw new Error(`--size ${text}: expected WxH, e.g. 1600x1200`);
  }
  return { width, height };
}

function parseCamera(text: string): CameraSpec {
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  if (first <= 0 || second <= first + 1 || second === text.length - 1) {
    throw new Error(`--camera ${text}: expected ADDRESS:SERIAL:IMAGE_FOLDER`);
  }
  return { address: text.slice(0, first), serial: text.slice(first + 1, second), folder: text.slice(second + 1) };
}

const USAGE =
  'usage: node dist/tools/line-sim.js --camera ADDRESS:SERIAL:IMAGE_FOLDER [--camera ...]\n' +
  '         [--size 1600x1200] [--fps 28] [--trigger continuous|software] [--packet-size 8192]\n' +
  '         [--sim PATH]\n' +
  'Run inside a network namespace (unshare -n); see the top of tools/line-sim.ts.\n';

export function parseArgs(argv: string[]): LineSimArgs | 'help' {
  const args: LineSimArgs = { cameras: [], fps: 28, trigger: 'continuous', packetSize: 8192, sim: defaultSimBinary() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      const v = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--camera': args.cameras.push(parseCamera(value())); break;
      case '--size': args.size = parseSize(value()); break;
      case '--fps': args.fps = Number(value()); break;
      case '--trigger': {
        const t = value();
        if (t !== 'continuous' && t !== 'software') throw new Error(`--trigger ${t}: expected continuous or software`);
        args.trigger = t;
        break;
      }
      case '--packet-size': args.packetSize = Number(value()); break;
      case '--sim': args.sim = value(); break;
      case '--help': case '-h': return 'help';
      default: throw new Error(`unknown argument ${a} (try --help)`);
    }
  }
  if (args.cameras.length === 0) throw new Error('give at least one --camera (try --help)');
  if (!(args.fps >= 0.1 && args.fps <= 1000)) throw new Error('--fps needs a number from 0.1 to 1000');
  if (!Number.isInteger(args.packetSize)) throw new Error('--packet-size needs a whole number');
  return args;
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const args = parsed;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'line-sim-'));
  try {
    const simArgs: string[] = [];
    for (const cam of args.cameras) {
      const set = await loadFrames(cam.folder, args.size);
      // The serial is the simulator's to check; keep the file name safe whatever it holds.
      const file = path.join(dir, `${cam.serial.replace(/[^A-Za-z0-9_-]/g, '_')}-${simArgs.length / 2}.frames`);
      await writeFrameFile(file, set);
      process.stderr.write(
        `line-sim: ${cam.serial}: ${set.frames.length} frames ${set.width}x${set.height} Mono8 from ${cam.folder}\n`,
      );
      simArgs.push('--camera', `${cam.address}:${cam.serial}:${file}`);
    }
    simArgs.push('--fps', String(args.fps), '--trigger', args.trigger, '--packet-size', String(args.packetSize));

    const child = spawn(args.sim, simArgs, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const code = await new Promise<number>((resolve) => {
      child.on('error', (err) => {
        process.stderr.write(`line-sim: cannot run ${args.sim}: ${errorMessage(err)} (build it with make -C sim)\n`);
        resolve(1);
      });
      child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
    });
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    return code;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`line-sim: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
