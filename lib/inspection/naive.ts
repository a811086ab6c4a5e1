/**
 * The taught-reference method written the naive way: plain JavaScript on a Buffer of pixels,
 * on the event loop, no native code and no OpenCV. It is the baseline the benchmark compares the
 * native path against (image bytes carried in msg.payload and inspected in JS), so it does the
 * same per-pixel work as the native kernel, simplified where that does not change the cost much:
 * area-average downscale, RGB → CIE Lab (or lightness for grey), 3×3 box blur instead of a
 * Gaussian, per-pixel mean and spread with a floor and an edge term, no alignment, threshold,
 * 3×3 opening, 8-connected flood fill, and the native severity and confidence formulas.
 */
import type { NativeDefect } from '../native/types';

export interface NaiveImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export interface NaiveReference {
  width: number;
  height: number;
  channels: number;
  workWidth: number;
  workHeight: number;
  mean: Float32Array;
  spread: Float32Array;
}

export interface NaiveParams {
  threshold: number;
  minAreaPx: number;
}

const SPREAD_FLOOR = 2;
const EDGE_TOLERANCE = 0.7;

export function naiveTeach(images: readonly NaiveImage[], workSize: number): NaiveReference {
  const first = images[0];
  const scale = Math.min(1, workSize / Math.max(first.width, first.height));
  const workWidth = Math.max(8, Math.round(first.width * scale));
  const workHeight = Math.max(8, Math.round(first.height * scale));
  const c = first.channels;
  const n = workWidth * workHeight * c;
  const sum = new Float64Array(n);
  const sumSq = new Float64Array(n);
  for (const image of images) {
    const f = features(image, workWidth, workHeight);
    for (let i = 0; i < n; i++) {
      sum[i] += f[i];
      sumSq[i] += f[i] * f[i];
    }
  }
  const count = images.length;
  const mean = new Float32Array(n);
  const variance = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    mean[i] = sum[i] / count;
    const v = Math.max(0, sumSq[i] / count - mean[i] * mean[i]);
    variance[i] = count > 1 ? (v * count) / (count - 1) : v;
  }
  const raw = new Float32Array(n);
  for (let y = 0; y < workHeight; y++) {
    for (let x = 0; x < workWidth; x++) {
      for (let k = 0; k < c; k++) {
        const at = (xx: number, yy: number): number => {
          const row = Math.min(workHeight - 1, Math.max(0, yy));
          const column = Math.min(workWidth - 1, Math.max(0, xx));
          return mean[(row * workWidth + column) * c + k];
        };
        const gx = (at(x + 1, y) - at(x - 1, y)) / 2;
        const gy = (at(x, y + 1) - at(x, y - 1)) / 2;
        const i = (y * workWidth + x) * c + k;
        raw[i] = Math.sqrt(variance[i] + SPREAD_FLOOR ** 2 + EDGE_TOLERANCE ** 2 * (gx * gx + gy * gy));
      }
    }
  }
  // 3×3 max filter of the spread, so edges that move a pixel are not defects.
  const spread = new Float32Array(n);
  for (let y = 0; y < workHeight; y++) {
    for (let x = 0; x < workWidth; x++) {
      for (let k = 0; k < c; k++) {
        let best = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = Math.min(workHeight - 1, Math.max(0, y + dy));
            const xx = Math.min(workWidth - 1, Math.max(0, x + dx));
            best = Math.max(best, raw[(yy * workWidth + xx) * c + k]);
          }
        }
        spread[(y * workWidth + x) * c + k] = best;
      }
    }
  }
  return { width: first.width, height: first.height, channels: c, workWidth, workHeight, mean, spread };
}

export function naiveInspect(
  reference: NaiveReference,
  image: NaiveImage,
  params: NaiveParams,
): { defects: NativeDefect[]; score: number } {
  const { workWidth: w, workHeight: h, channels: c, mean, spread } = reference;
  const f = features(image, w, h);
  const z = new Float32Array(w * h);
  let peak = 0;
  for (let p = 0; p < w * h; p++) {
    let worst = 0;
    for (let k = 0; k < c; k++) {
      const i = p * c + k;
      worst = Math.max(worst, Math.abs(f[i] - mean[i]) / spread[i]);
    }
    z[p] = worst;
    if (worst > peak) peak = worst;
  }
  const t = params.threshold;
  let mask: Uint8Array = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) mask[p] = z[p] > t / 2 ? 1 : 0;
  mask = morph(morph(mask, w, h, false), w, h, true);

  const sx = reference.width / w;
  const sy = reference.height / h;
  const minAreaWork = Math.max(1, params.minAreaPx / (sx * sy));
  const defects: NativeDefect[] = [];
  const seen = new Uint8Array(w * h);
  const stack: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (!mask[start] || seen[start]) continue;
    let area = 0;
    let zSum = 0;
    let zPeak = 0;
    let x0 = w, y0 = h, x1 = 0, y1 = 0;
    stack.push(start);
    seen[start] = 1;
    while (stack.length > 0) {
      const p = stack.pop() as number;
      const x = p % w;
      const y = (p - x) / w;
      area++;
      zSum += z[p];
      zPeak = Math.max(zPeak, z[p]);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const q = yy * w + xx;
          if (mask[q] && !seen[q]) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    if (area < minAreaWork) continue;
    defects.push({
      x: Math.floor(x0 * sx), y: Math.floor(y0 * sy),
      width: Math.ceil((x1 + 1) * sx) - Math.floor(x0 * sx),
      height: Math.ceil((y1 + 1) * sy) - Math.floor(y0 * sy),
      areaPx: Math.round(area * sx * sy),
      severity: Math.min(1, zSum / area / (2 * t)),
      confidence: 1 - 2 ** (-(area / minAreaWork) * (zPeak / t)),
    });
  }
  defects.sort((a, b) => b.severity - a.severity);
  return { defects, score: peak / t };
}

/** Area-average downscale, colour to Lab (lightness for grey) and a 3×3 box blur. */
function features(image: NaiveImage, w: number, h: number): Float32Array {
  const { pixels, width, height, channels: c } = image;
  const small = new Float32Array(w * h * c);
  for (let y = 0; y < h; y++) {
    const ya = Math.floor((y * height) / h);
    const yb = Math.max(ya + 1, Math.floor(((y + 1) * height) / h));
    for (let x = 0; x < w; x++) {
      const xa = Math.floor((x * width) / w);
      const xb = Math.max(xa + 1, Math.floor(((x + 1) * width) / w));
      const acc = [0, 0, 0];
      for (let yy = ya; yy < yb; yy++) {
        for (let xx = xa; xx < xb; xx++) {
          for (let k = 0; k < c; k++) acc[k] += pixels[(yy * width + xx) * c + k];
        }
      }
      const count = (yb - ya) * (xb - xa);
      const o = (y * w + x) * c;
      if (c === 3) {
        const lab = rgbToLab(acc[0] / count / 255, acc[1] / count / 255, acc[2] / count / 255);
        small[o] = lab[0];
        small[o + 1] = lab[1];
        small[o + 2] = lab[2];
      } else {
        small[o] = (acc[0] / count) * (100 / 255);
      }
    }
  }
  const out = new Float32Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = Math.min(h - 1, Math.max(0, y + dy));
            const xx = Math.min(w - 1, Math.max(0, x + dx));
            s += small[(yy * w + xx) * c + k];
          }
        }
        out[(y * w + x) * c + k] = s / 9;
      }
    }
  }
  return out;
}

function rgbToLab(r: number, g: number, b: number): [number, number, number] {
  const lin = (v: number): number => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const rl = lin(r), gl = lin(g), bl = lin(b);
  const x = (0.412453 * rl + 0.35758 * gl + 0.180423 * bl) / 0.950456;
  const y = 0.212671 * rl + 0.71516 * gl + 0.072169 * bl;
  const z = (0.019334 * rl + 0.119193 * gl + 0.950227 * bl) / 1.088754;
  const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const fy = f(y);
  return [y > 0.008856 ? 116 * fy - 16 : 903.3 * y, 500 * (f(x) - fy), 200 * (fy - f(z))];
}

/** 3×3 erosion (dilate = false) or dilation of a 0/1 mask. */
function morph(mask: Uint8Array, w: number, h: number, dilate: boolean): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = dilate ? 0 : 1;
      for (let dy = -1; dy <= 1 && v === (dilate ? 0 : 1); dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = Math.min(h - 1, Math.max(0, y + dy));
          const xx = Math.min(w - 1, Math.max(0, x + dx));
          if (dilate ? mask[yy * w + xx] : !mask[yy * w + xx]) {
            v = dilate ? 1 : 0;
            break;
          }
        }
      }
      out[y * w + x] = v;
    }
  }
  return out;
}
