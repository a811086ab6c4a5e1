import type { CameraPosition } from '../frames/frame-ref';

/** What a tool found. Rectangles are in pixels of the full frame. */
export interface Defect {
  type: DefectType;
  rect: { x: number; y: number; width: number; height: number };
  /** 0..1: how far the region departs from the taught reference, relative to the threshold. */
  severity: number;
  /** 0..1: how sure the tool is that this is a real defect rather than noise. */
  confidence: number;
  /** Area of the defect in full-frame pixels. */
  areaPx: number;
}

/**
 * Defect types the product knows. `deviation` is what the generic taught-reference method reports:
 * a region that differs from every good bottle it was taught, of no more specific kind.
 */
export type DefectType =
  | 'deviation'
  | 'contamination'
  | 'crack'
  | 'chip'
  | 'deformation'
  | 'colour'
  | 'fill_level'
  | 'cap'
  | 'label';

/** Result of inspecting one view of one bottle; what `msg.inspection` carries. */
export interface InspectionResult {
  bottleId: number;
  camera: string;
  position: CameraPosition;
  /** False when the view could not be inspected (expired frame, no reference); see `error`. */
  ok: boolean;
  error?: { code: string; message: string };
  defects: Defect[];
  /** Largest anomaly score in the frame, in units of the threshold (1 = at threshold). */
  score: number;
  /** Time spent in the native tool, and from trigger until the result was ready. */
  inspectMs: number;
  latencyMs: number;
  triggerTimeMs: number;
}

/**
 * Checks that a value received from a flow is a whole InspectionResult before it takes part in a
 * decision; returns what is wrong, or undefined. A hand-made or damaged result must fail here,
 * with its own message, rather than deep inside the classifier.
 */
export function checkInspectionResult(value: unknown, positions: readonly CameraPosition[]): string | undefined {
  if (typeof value !== 'object' || value === null) return 'msg.inspection is missing or not an object';
  const r = value as Record<string, unknown>;
  if (!Number.isInteger(r.bottleId) || (r.bottleId as number) < 1) return `bottleId must be a whole number ≥ 1, got ${String(r.bottleId)}`;
  if (!positions.includes(r.position as CameraPosition)) {
    return `position must be one of the line's positions (${positions.join(', ')}), got ${String(r.position)}`;
  }
  if (typeof r.ok !== 'boolean') return `ok must be true or false, got ${String(r.ok)}`;
  if (!Number.isFinite(r.triggerTimeMs)) return `triggerTimeMs must be a number, got ${String(r.triggerTimeMs)}`;
  if (!Array.isArray(r.defects)) return 'defects must be a list';
  for (const [i, d] of (r.defects as unknown[]).entries()) {
    const defect = d as Record<string, unknown> | null;
    if (typeof defect !== 'object' || defect === null || typeof defect.type !== 'string'
      || !Number.isFinite(defect.severity) || !Number.isFinite(defect.confidence)) {
      return `defect ${i} must have a type, a severity and a confidence`;
    }
  }
  return undefined;
}
