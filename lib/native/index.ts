/**
 * Loads the native addon (build/Release/bottle_inspection.node) once, typed as NativeAddon.
 * Everything native goes through here, so a missing build fails in one place with one message.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { InspectionError, errorMessage } from '../util/errors';
import type { NativeAddon } from './types';

const ADDON_FILE = path.join('build', 'Release', 'bottle_inspection.node');

let loaded: NativeAddon | undefined;

/** Package root: this file runs from dist/lib/native (compiled) or lib/native (sources). */
function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'binding.gyp'))) {
      return dir;
    }
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..', '..', '..');
}

/** The addon, loaded on first use. Throws InspectionError NATIVE_UNAVAILABLE if it is not built. */
export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  const file = path.join(packageRoot(), ADDON_FILE);
  if (!fs.existsSync(file)) {
    throw new InspectionError(
      'NATIVE_UNAVAILABLE',
      `the native inspection addon is not built (looked for ${file}); run "npm install" in the ` +
        'package folder (it needs a C++17 compiler and OpenCV 4 development files, pkg-config opencv4)',
    );
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(file) as NativeAddon;
  } catch (err) {
    throw new InspectionError(
      'NATIVE_UNAVAILABLE',
      `the native inspection addon at ${file} could not be loaded: ${errorMessage(err)}; ` +
        'rebuild it with "npm install" (or "npx node-gyp rebuild")',
      { cause: err },
    );
  }
  return loaded;
}
