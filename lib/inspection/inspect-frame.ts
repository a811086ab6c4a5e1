/**
 * Inspecting one frame against a taught reference on the native inspection threads.
 * The pixels never leave the pool: only the frame's slot, generation and size cross to C++.
 */
import { bytesPerPixel, referenceFormatOf, type FrameRef } from '../frames/frame-ref';
import type { FramePool } from '../frames/frame-pool';
import type { NativeDefect, NativeInspectResult, NativeInspector } from '../native/types';
import { InspectionError, errorCode, errorMessage } from '../util/errors';
import type { TaughtReference } from './reference';
import type { Defect, InspectionResult } from './types';

export interface InspectParams {
  /** Anomaly threshold, in spreads (standard deviations) of the taught reference. */
  threshold: number;
  /** Smallest defect reported, in full-frame pixels. */
  minAreaPx: number;
  /** Largest alignment shift searched, as a fraction of the working width. */
  maxShift: number;
}

export const DEFAULT_INSPECT_PARAMS: Readonly<InspectParams> = Object.freeze({
  threshold: 3.5,
  minAreaPx: 400,
  maxShift: 0.1,
});

export const INSPECT_PARAM_RANGES = {
  threshold: { min: 0.5, max: 100 },
  minAreaPx: { min: 1, max: 10_000_000 },
  maxShift: { min: 0, max: 0.5 },
} as const;

/** Names the first parameter out of range, with its range and what arrived. */
export function validateInspectParams(p: InspectParams): string | undefined {
  const r = INSPECT_PARAM_RANGES;
  const inRange = (v: number, range: { min: number; max: number }): boolean =>
    typeof v === 'number' && v >= range.min && v <= range.max;
  if (!inRange(p.threshold, r.threshold)) {
    return `threshold must be ${r.threshold.min}..${r.threshold.max} spreads, got ${p.threshold}`;
  }
  if (!inRange(p.minAreaPx, r.minAreaPx)) {
    return `minimum defect area must be ${r.minAreaPx.min}..${r.minAreaPx.max} pixels, got ${p.minAreaPx}`;
  }
  if (!inRange(p.maxShift, r.maxShift)) {
    return `maximum shift must be ${r.maxShift.min}..${r.maxShift.max} of the image width, got ${p.maxShift}`;
  }
  return undefined;
}

/**
 * Inspects one frame. Resolves with ok:false for a frame that expired or does not match the
 * reference (size or pixel format); rejects only with QUEUE_FULL or CLOSED InspectionErrors.
 * `params` must have passed validateInspectParams.
 */
export function inspectFrame(
  inspector: NativeInspector,
  pool: FramePool,
  frame: FrameRef,
  reference: TaughtReference,
  params: InspectParams,
  nowMs: () => number,
): Promise<InspectionResult> {
  const failed = (code: string, message: string): InspectionResult =>
    resultOf(frame, nowMs, { ok: false, error: { code, message }, defects: [], score: 0, inspectMs: 0 });

  if (frame.line !== pool.lineId) {
    return Promise.resolve(
      failed('INVALID_INPUT', `frame belongs to line ${frame.line}, the pool is line ${pool.lineId}`),
    );
  }
  // Bayer frames are compared with a colour (RGB8) reference, Mono16 with a grey (Mono8) one.
  const sameSize = frame.width === reference.width && frame.height === reference.height &&
    referenceFormatOf(frame.pixelFormat) === reference.pixelFormat;
  if (!sameSize) {
    return Promise.resolve(
      failed(
        'SIZE_MISMATCH',
        `frame from camera ${frame.camera} is ${frame.width}x${frame.height} ${frame.pixelFormat}, ` +
          `the reference was taught at ${reference.width}x${reference.height} ${reference.pixelFormat}`,
      ),
    );
  }

  return new Promise<InspectionResult>((resolve, reject) => {
    const onResult = (err: (Error & { code?: string }) | null, result?: NativeInspectResult): void => {
      if (err || !result) {
        const code = errorCode(err) ?? 'INVALID_INPUT';
        if (code === 'CLOSED' || code === 'POOL_CLOSED') {
          reject(new InspectionError('CLOSED', errorMessage(err), { cause: err }));
        } else {
          resolve(failed(code, errorMessage(err ?? 'inspection returned no result')));
        }
        return;
      }
      resolve(
        resultOf(frame, nowMs, {
          ok: true,
          defects: result.defects.map(toDefect),
          score: result.score,
          inspectMs: result.inspectMs,
        }),
      );
    };

    let queued: boolean;
    try {
      queued = inspector.inspect(
        frame.slot, frame.generation, frame.width, frame.height, bytesPerPixel(frame.pixelFormat),
        reference.native, { ...params, pixelFormat: frame.pixelFormat }, onResult,
      );
    } catch (err) {
      const code = errorCode(err);
      if (code === 'CLOSED' || code === 'POOL_CLOSED') {
        reject(new InspectionError('CLOSED', `cannot inspect: ${errorMessage(err)}`, { cause: err }));
        return;
      }
      throw err;
    }
    if (!queued) {
      reject(
        new InspectionError(
          'QUEUE_FULL',
          `inspection queue is full; frame of bottle ${frame.bottleId} from camera ${frame.camera} ` +
            'was not inspected',
        ),
      );
    }
  });
}

function toDefect(d: NativeDefect): Defect {
  return {
    type: 'deviation',
    rect: { x: d.x, y: d.y, width: d.width, height: d.height },
    severity: d.severity,
    confidence: d.confidence,
    areaPx: d.areaPx,
  };
}

function resultOf(
  frame: FrameRef,
  nowMs: () => number,
  outcome: Pick<InspectionResult, 'ok' | 'error' | 'defects' | 'score' | 'inspectMs'>,
): InspectionResult {
  return {
    bottleId: frame.bottleId,
    camera: frame.camera,
    position: frame.position,
    ...outcome,
    latencyMs: nowMs() - frame.triggerTimeMs,
    triggerTimeMs: frame.triggerTimeMs,
  };
}
