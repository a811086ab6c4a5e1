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
