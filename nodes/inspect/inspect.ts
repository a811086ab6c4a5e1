import { isFrameRef, referenceFormatOf, type ReferenceFormat } from '../../lib/frames/frame-ref';
import { DEFAULT_INSPECT_PARAMS, inspectFrame, validateInspectParams, type InspectParams } from '../../lib/inspection/inspect-frame';
import { teachFromFolder, type TaughtReference } from '../../lib/inspection/reference';
import type { InspectionResult } from '../../lib/inspection/types';
import { errorCode, errorMessage } from '../../lib/util/errors';
import { num, resolveFolder, str } from '../shared/config';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../shared/red';
import { startLineNode } from '../shared/setup';
import { ErrorThrottle, ThrottledStatus } from '../shared/status';

/**
 * Inspects each frame it is given against a reference taught from good bottles, on the line's
 * native inspection threads, and sends the result as `msg.inspection`. The frame stays in the pool;
 * only its reference passes through.
 */
export = function register(RED: NodeAPI): void {
  function InspectNode(this: Node, def: NodeDef): void {
    const started = startLineNode(RED, this, def);
    if (!started) return;
    const { line, view, refuse } = started;
    const status = new ThrottledStatus(view);
    const params: InspectParams = {
      threshold: num(def, 'threshold', DEFAULT_INSPECT_PARAMS.threshold),
      minAreaPx: num(def, 'minAreaPx', DEFAULT_INSPECT_PARAMS.minAreaPx),
      maxShift: num(def, 'maxShift', DEFAULT_INSPECT_PARAMS.maxShift),
    };
    const width = num(def, 'width', 0);
    const height = num(def, 'height', 0);
    const problem = validateInspectParams(params)
      ?? (str(def, 'teachFolder') === '' ? 'no teach folder given' : undefined)
      ?? validateResize(width, height);
    if (problem) {
      refuse(problem);
      return;
    }

    let closed = false;
    const counts = { inspected: 0, overThreshold: 0, failed: 0 };
    const viewErrors = new ErrorThrottle();
    const teachFolder = resolveFolder(RED, str(def, 'teachFolder'));
    const resize = width > 0 && height > 0 ? { width, height } : undefined;

    // One colour (RGB8) and one grey (Mono8) reference: RGB8 and Bayer frames are compared with the
    // colour one, Mono8 and Mono16 frames with the grey one. Colour is taught before the line
    // starts, grey when the first grey frame arrives (grey frames are uncertain until it is ready).
    const references = new Map<ReferenceFormat, TaughtReference>();
    const teach = (pixelFormat: ReferenceFormat): Promise<TaughtReference> => {
      view.show('busy', RED._('inspect.status.teaching'));
      const taught = teachFromFolder(teachFolder, { resize, pixelFormat });
      taught.then(
        (ref) => {
          references.set(pixelFormat, ref);
          view.show('ok', RED._('inspect.status.taught', { count: ref.imageCount, width: ref.width, height: ref.height }));
        },
        (err: unknown) => {
          if (closed) return;
          view.show('error', errorMessage(err));
          this.error(RED._('inspect.errors.teach', { reason: errorMessage(err) }));
        },
      );
      return taught;
    };
    const teaching = new Set<ReferenceFormat>(['RGB8']);
    line.waitFor(teach('RGB8'));

    this.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      const frame = msg.frame;
      if (!isFrameRef(frame)) {
        done(new Error(RED._('inspect.errors.noFrame')));
        return;
      }
      const inspector = line.inspector;
      const pool = line.pool;
      if (frame.line !== line.id || !inspector || !pool) {
        done(new Error(RED._('inspect.errors.otherLine', { line: frame.line })));
        return;
      }
      const finish = (result: InspectionResult): void => {
        counts.inspected++;
        // Counted like a default decision would: a defect whose region departs by the threshold.
        if (result.defects.some((d) => d.severity >= 0.5)) counts.overThreshold++;
        if (!result.ok) counts.failed++;
        send({ topic: msg.topic, bottleId: frame.bottleId, frame, inspection: result });
        status.show(counts.failed > 0 ? 'warn' : 'ok', RED._('inspect.status.counts', counts));
        if (result.ok || closed) done();
        else {
          viewErrors.report(done, RED._('inspect.errors.view', { bottle: frame.bottleId, reason: result.error?.message ?? '' }),
            result.error?.code);
        }
      };
      const referenceFormat = referenceFormatOf(frame.pixelFormat);
      const reference = references.get(referenceFormat);
      if (!reference) {
        if (!teaching.has(referenceFormat)) {
          teaching.add(referenceFormat);
          teach(referenceFormat).catch(() => undefined);
        }
        finish(failed(frame, 'NOT_TAUGHT', RED._('inspect.errors.notTaught')));
        return;
      }
      inspectFrame(inspector, pool, frame, reference, params, () => line.clock.now()).then(finish, (err: unknown) => {
        finish(failed(frame, errorCode(err) ?? 'INSPECTION_FAILED', errorMessage(err)));
      });
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      status.close();
      view.clear();
      done();
    });

    function failed(frame: { bottleId: number; camera: string; position: InspectionResult['position']; triggerTimeMs: number },
      code: string, message: string): InspectionResult {
      return {
        bottleId: frame.bottleId, camera: frame.camera, position: frame.position, ok: false,
        error: { code, message }, defects: [], score: 0, inspectMs: 0,
        latencyMs: line.clock.now() - frame.triggerTimeMs, triggerTimeMs: frame.triggerTimeMs,
      };
    }
  }

  RED.nodes.registerType('inspect', InspectNode);
};

function validateResize(width: number, height: number): string | undefined {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!(Number.isInteger(v) && v >= 0 && v <= 16384)) return `teach ${name} must be blank or a whole number 1..16384, got ${v}`;
  }
  if ((width > 0) !== (height > 0)) return 'give both teach width and height to resize, or neither';
  return undefined;
}
