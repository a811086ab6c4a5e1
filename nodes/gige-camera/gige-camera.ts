import { ReplaySource } from '../../lib/camera/replay';
import { CAMERA_POSITIONS, type CameraPosition, type FrameRef } from '../../lib/frames/frame-ref';
import type { Bottle } from '../../lib/tracking/tracker';
import type { CameraSource } from '../../lib/camera/source';
import { errorMessage } from '../../lib/util/errors';
import { bool, findLine, num, resolveFolder, str } from '../shared/config';
import type { Node, NodeAPI, NodeDef } from '../shared/red';
import { startLineNode } from '../shared/setup';
import { ThrottledStatus } from '../shared/status';

/**
 * A camera of the line. Each trigger of the line yields one message carrying a reference to the
 * frame in the line's pool (`msg.frame`), never the pixels. The replay source plays a folder of
 * images; GigE Vision acquisition plugs in as another source behind the same interface.
 */
export = function register(RED: NodeAPI): void {
  function GigeCameraNode(this: Node, def: NodeDef): void {
    const started = startLineNode(RED, this, def);
    if (!started) return;
    const { line, view, refuse } = started;
    const status = new ThrottledStatus(view);

    const problem = validate(def);
    if (problem) {
      refuse(problem);
      return;
    }
    const position = str(def, 'position') as CameraPosition;
    const width = num(def, 'width', 0);
    const height = num(def, 'height', 0);
    const folder = resolveFolder(RED, str(def, 'folder'));
    const source = new ReplaySource({
      id: def.id,
      position,
      folder,
      resize: width > 0 && height > 0 ? { width, height } : undefined,
      grey: bool(def, 'grey'),
    }, line.clock);

    if (!line.options.positions.includes(position)) {
      this.warn(RED._('gige-camera.errors.position', { position, positions: line.options.positions.join(', ') }));
    }
    line.registerCamera(source);
    view.show('busy', RED._('gige-camera.status.loading'));
    source.ready().then(
      () => {
        view.show('ok', RED._('gige-camera.status.ready', { folder: str(def, 'folder') }));
        if (source.unreadable.length > 0) {
          this.warn(RED._('gige-camera.errors.unreadable', { count: source.unreadable.length, files: source.unreadable.slice(0, 3).join(', ') }));
        }
      },
      (err: unknown) => {
        view.show('error', errorMessage(err));
        this.error(RED._('gige-camera.errors.source', { reason: errorMessage(err) }));
      },
    );

    source.onFrame = (frame: FrameRef) => {
      this.send({ topic: position, bottleId: frame.bottleId, frame });
      const c = source.counters();
      status.show(c.missed > 0 ? 'warn' : 'ok', RED._('gige-camera.status.frames', { frames: c.frames, missed: c.missed }));
    };
    const onMissed = (camera: CameraSource, bottle: Bottle, reason: string) => {
      if (camera !== source) return;
      const c = source.counters();
      status.show('warn', RED._('gige-camera.status.missed', { bottle: bottle.id, reason, missed: c.missed }));
    };
    line.on('missed', onMissed);

    this.on('close', (_removed: boolean, done: () => void) => {
      line.off('missed', onMissed);
      line.unregisterCamera(source);
      status.close();
      source.close().finally(() => {
        view.clear();
        done();
      });
    });
  }

  RED.nodes.registerType('gige-camera', GigeCameraNode);
};

function validate(def: NodeDef): string | undefined {
  const source = str(def, 'source', 'replay');
  if (source !== 'replay') return `source "${source}" is not available (expected replay)`;
  const position = str(def, 'position');
  if (!CAMERA_POSITIONS.includes(position as CameraPosition)) {
    return `position must be one of ${CAMERA_POSITIONS.join(', ')}, got "${position}"`;
  }
  if (str(def, 'folder') === '') return 'no image folder given';
  const width = num(def, 'width', 0);
  const height = num(def, 'height', 0);
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!(Number.isInteger(v) && v >= 0 && v <= 16384)) return `${name} must be blank or a whole number 1..16384, got ${def[name]}`;
  }
  if ((width > 0) !== (height > 0)) return 'give both width and height to resize, or neither';
  return undefined;
}
