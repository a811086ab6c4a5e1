/**
 * Where tests find real bottle images: the shared data set beside the repository when it is
 * there (../shared/data/bottles), else the small licensed sample set in examples/images. Both
 * have the same layout (labels.csv, <view>/<label>/..., teach/<view>/...), so tests written
 * against the sample set pass with either. BOTTLE_TEST_IMAGES=examples/images forces the sample set.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root, from dist/test/support (compiled) or test/support (sources). */
export const repoRoot = fs.existsSync(path.resolve(__dirname, '..', '..', 'package.json'))
  ? path.resolve(__dirname, '..', '..')
  : path.resolve(__dirname, '..', '..', '..');

/** The sample set shipped in the repository; always present. */
export function sampleImagesDir(): string {
  return path.join(repoRoot, 'examples', 'images');
}

/** BOTTLE_TEST_IMAGES if set, else the shared data set if it exists, else the sample set. */
export function imagesDir(): string {
  const forced = process.env.BOTTLE_TEST_IMAGES;
  if (forced) return path.resolve(repoRoot, forced);
  const shared = path.resolve(repoRoot, '..', 'shared', 'data', 'bottles');
  return fs.existsSync(path.join(shared, 'labels.csv')) ? shared : sampleImagesDir();
}
