import type { CameraPosition } from '../frames/frame-ref';
import type { Defect, InspectionResult } from '../inspection/types';

/** Thresholds that turn the defects of all views into one verdict. */
export interface DecisionOptions {
  /** 0..1; a defect counts when its severity is at least 1 − sensitivity. */
  sensitivity: number;
  /** 0..1; defects reported with less confidence are ignored. */
  minConfidence: number;
  /** A bottle with more counted defects than this fails; 0 means any counted defect fails. */
  maxDefects: number;
}

export const DEFAULT_DECISION: DecisionOptions = { sensitivity: 0.5, minConfidence: 0.5, maxDefects: 0 };

export type VerdictKind = 'pass' | 'fail' | 'uncertain';

/** Why a bottle failed or is uncertain. Codes are stable; the PLC receives `reasonCode`. */
export type Reason =
  | 'none'
  | 'defect'
  | 'missing_view'
  | 'timeout'
  | 'inspection_error';

export const REASON_CODES: Record<Reason, number> = {
  none: 0,
  defect: 1,
  missing_view: 2,
  timeout: 3,
  inspection_error: 4,
};

export interface Verdict {
  bottleId: number;
  verdict: VerdictKind;
  reason: Reason;
  reasonCode: number;
  /** For a failed bottle, the defect type that decided it (the most severe counted defect). */
  defectType?: string;
  /** Counted defects of every view, each tagged with its position. */
  defects: (Defect & { position: CameraPosition })[];
  missingViews: CameraPosition[];
  triggerTimeMs: number;
  /** Line-clock time the verdict was made. */
  decidedAtMs: number;
}

/** Validates thresholds, naming the first one out of range. */
export function validateDecision(opts: DecisionOptions): string | undefined {
  if (!(opts.sensitivity >= 0 && opts.sensitivity <= 1)) return `sensitivity must be 0..1, got ${opts.sensitivity}`;
  if (!(opts.minConfidence >= 0 && opts.minConfidence <= 1)) return `minimum confidence must be 0..1, got ${opts.minConfidence}`;
  if (!(Number.isInteger(opts.maxDefects) && opts.maxDefects >= 0)) {
    return `maximum defects must be a whole number ≥ 0, got ${opts.maxDefects}`;
  }
  return undefined;
}

/**
 * One verdict from the views of one bottle. A view that is missing or could not be inspected
 * makes the bottle uncertain, whatever the other views say: a bottle is good only when every view
 * has been seen and found good.
 */
export function decide(
  bottleId: number,
  triggerTimeMs: number,
  expected: readonly CameraPosition[],
  views: ReadonlyMap<CameraPosition, InspectionResult>,
  opts: DecisionOptions,
  nowMs: number,
  timedOut = false,
): Verdict {
  const defects: Verdict['defects'] = [];
  let inspectionError = false;

  for (const position of expected) {
    const view = views.get(position);
    if (!view) continue;
    if (!view.ok) inspectionError = true;
    for (const d of view.defects) {
      if (d.confidence >= opts.minConfidence && d.severity >= 1 - opts.sensitivity) {
        defects.push({ ...d, position });
      }
    }
  }
  defects.sort((a, b) => b.severity - a.severity);

  const missingViews = expected.filter((p) => !views.has(p));
  const base = { bottleId, defects, missingViews, triggerTimeMs, decidedAtMs: nowMs };
  const make = (verdict: VerdictKind, reason: Reason, defectType?: string): Verdict => ({
    ...base, verdict, reason, reasonCode: REASON_CODES[reason], ...(defectType ? { defectType } : {}),
  });

  // A counted defect fails the bottle even if another view is missing: the bottle is bad either way.
  if (defects.length > opts.maxDefects) return make('fail', 'defect', defects[0].type);
  if (missingViews.length > 0) return make('uncertain', timedOut ? 'timeout' : 'missing_view');
  if (inspectionError) return make('uncertain', 'inspection_error');
  return make('pass', 'none');
}
