/**
 * Errors with stable codes. Tests and callers match the code; the message is for people and names
 * what was wrong, what was expected and what arrived.
 */
export type ErrorCode =
  | 'INVALID_CONFIG'
  | 'INVALID_INPUT'
  | 'FRAME_EXPIRED'
  | 'POOL_EXHAUSTED'
  | 'POOL_CLOSED'
  | 'SIZE_MISMATCH'
  | 'NOT_TAUGHT'
  | 'TEACH_FOLDER_MISSING'
  | 'TEACH_FOLDER_EMPTY'
  | 'IMAGE_UNREADABLE'
  | 'FOLDER_MISSING'
  | 'FOLDER_EMPTY'
  | 'QUEUE_FULL'
  | 'CLOSED'
  | 'PLC_UNREACHABLE'
  | 'PLC_WRITE_FAILED'
  | 'PLC_READ_FAILED'
  | 'DEADLINE_PASSED'
  | 'NATIVE_UNAVAILABLE'
  | 'CAMERA_NOT_FOUND'
  | 'CAMERA_ERROR';

export class InspectionError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InspectionError';
    this.code = code;
  }
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
