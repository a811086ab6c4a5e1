/**
 * Benchmarks, printed as one JSON object with --json (progress goes to standard error).
 *
 *   npm run --silent bench -- [--json] [--images DIR] [--seconds N] [--acquisition-seconds N]
 *
 * --seconds is the length of each inspection part (default 10); --acquisition-seconds the length
 * of the GigE acquisition part (default 60, 0 leaves it out).
 *
 * Images default to ../shared/data/bottles when it is beside the repository, else to the samples
 * in examples/images.
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchAcquisition } from './bench-acquisition';
import { benchInspection } from './bench-inspection';

const root = path.resolve(__dirname, '..', '..');

function defaultImages(): string {
  const shared = path.resolve(root, '..', 'shared', 'data', 'bottles');
  return fs.existsSync(shared) ? shared : path.join(root, 'examples', 'images');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let json = false;
  let images = defaultImages();
  let seconds = 10;
  let acquisitionSeconds = 60;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = true;
    else if (argv[i] === '--images' && argv[i + 1]) images = path.resolve(argv[++i]);
    else if (argv[i] === '--seconds' && Number(argv[i + 1]) > 0) seconds = Number(argv[++i]);
    else if (argv[i] === '--acquisition-seconds' && Number(argv[i + 1]) >= 0) acquisitionSeconds = Number(argv[++i]);
    else {
      process.stderr.write(`bench: unknown option ${argv[i]} (expected --json, --images DIR, --seconds N, --acquisition-seconds N)\n`);
      process.exit(2);
    }
  }
  const view = fs.existsSync(path.join(images, 'top_view')) ? 'top_view' : '';
  if (!view) {
    process.stderr.write(`bench: ${images} has no top_view folder\n`);
    process.exit(2);
  }
  process.stderr.write(`bench: inspection on ${path.join(images, view)} resized to 1600x1200, ${seconds} s a part\n`);
  const inspection = await benchInspection({
    images: path.join(images, view),
    teach: path.join(images, 'teach', view),
    seconds,
  });
  let acquisition: Awaited<ReturnType<typeof benchAcquisition>> | undefined;
  if (acquisitionSeconds > 0) {
    process.stderr.write(`bench: acquisition from 4 simulated GigE cameras, 1600x1200 Mono8 at 28 fps, ${acquisitionSeconds} s\n`);
    acquisition = await benchAcquisition({ images: path.join(images, view), seconds: acquisitionSeconds });
  }
  const result = {
    machine: { cores: (await import('node:os')).availableParallelism(), node: process.version },
    ...inspection,
    ...(acquisition ? { acquisition } : {}),
  };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
