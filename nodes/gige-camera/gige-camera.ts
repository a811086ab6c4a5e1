import { GigeSource, type GigeCameraTarget } from '../../lib/camera/gige';
import { ReplaySource } from '../../lib/camera/replay';
import { CAMERA_POSITIONS, type CameraPosition, type FrameRef } from '../../lib/frames/frame-ref';
import type { NativeGigeAccepted, NativeGigeFeatures } from '../../lib/native/types';
import type { Bottle } from '../../lib/tracking/tracker';
import type { CameraSource } from '../../lib/camera/source';
import { errorMessage } from '../../lib/util/errors';
import { bool, num, resolveFolder, str } from '../shared/config';
import type { Node, NodeAPI, NodeDef } from '../shared/red';
import { startLineNode } from '../shared/setup';
import { ThrottledStatus } from '../shared/status';

/** Sources the node offers. */
const SOURCES = ['replay', 'gige'] as const;
/** Pixel formats the node may ask a GigE camera for; blank keeps the camera's own. */
const GIGE_PIXEL_FORMATS = ['Mono8', 'Mono16', 'BayerRG8', 'BayerGB8', 'BayerGR8', 'BayerBG8', 'RGB8'] as const;
/**
 * Formats whose frames are handed on to inspection (lib/camera/gige.ts): every one the node can ask
 * for. A camera left at a format of its own outside this list has its triggers counted as missed.
 */
const PASSED_ON_FORMATS: readonly string[] = GIGE_PIXEL_FORMATS;
const CAMERA_BY = ['serial', 'userId', 'address'] as const;
const TRIGGER_MODES = ['continuous', 'software', 'hardware'] as const;
const TRIGGER_EDGES = ['rising', 'falling'] as const;
const MAX_SIDE_PX = 16384;

/** What a GigE camera node asks for, read and checked from its config. */
interface GigeSettings {
  camera: GigeCameraTarget;
  /** The camera as the user named it, for messages. */
  label: string;
  features: NativeGigeFeatures;
  frameTimeoutMs?: number;
}

/**
 * A camera of the line. Each trigger of the line yields one message carrying a reference to the
 * frame in the line's pool (`msg.frame`), never the pixels. The replay source plays a folder of
 * images; the gige source takes frames from a GigE Vision camera (lib/camera/gige.ts).
 */
export = function register(RED: NodeAPI): void {
  function GigeCameraNode(this: Node, def: NodeDef): void {
    const started = startLineNode(RED, this, def);
    if (!started) return;
    const { line, view, refuse } = started;
    const status = new ThrottledStatus(view);

    const problem = validateCommon(def);
    if (problem) {
      refuse(problem);
      return;
    }
    const position = str(def, 'position') as CameraPosition;
    const kind = str(def, 'source', 'replay');
    let gige: GigeSettings | undefined;
    if (kind === 'gige') {
      const read = readGige(def);
      if (typeof read === 'string') {
        refuse(read);
        return;
      }
      gige = read;
    } else {
      const bad = validateReplay(def);
      if (bad) {
        refuse(bad);
        return;
      }
    }

    if (!line.options.positions.includes(position)) {
      this.warn(RED._('gige-camera.errors.position', { position, positions: line.options.positions.join(', ') }));
    }
    const source = gige ? startGige(this, def, gige, position) : startReplay(this, def, position);
    line.registerCamera(source.camera);

    const onMissed = (camera: CameraSource, bottle: Bottle, reason: string) => {
      if (camera !== source.camera || source.isLost()) return;
      const c = camera.counters();
      status.show('warn', RED._('gige-camera.status.missed', { bottle: bottle.id, reason, missed: c.missed }));
    };
    line.on('missed', onMissed);

    this.on('close', (_removed: boolean, done: () => void) => {
      line.off('missed', onMissed);
      line.unregisterCamera(source.camera);
      status.close();
      source.stop();
      source.camera.close().catch((err: unknown) => {
        this.warn(RED._('gige-camera.errors.close', { reason: errorMessage(err) }));
      }).finally(() => {
        view.clear();
        done();
      });
    });

    interface Started { camera: CameraSource; isLost(): boolean; stop(): void }

    function startReplay(node: Node, d: NodeDef, pos: CameraPosition): Started {
      const width = num(d, 'width', 0);
      const height = num(d, 'height', 0);
      const replay = new ReplaySource({
        id: d.id,
        position: pos,
        folder: resolveFolder(RED, str(d, 'folder')),
        resize: width > 0 && height > 0 ? { width, height } : undefined,
        grey: bool(d, 'grey'),
      }, line.clock);
      view.show('busy', RED._('gige-camera.status.loading'));
      replay.ready().then(
        () => {
          view.show('ok', RED._('gige-camera.status.ready', { folder: str(d, 'folder') }));
          if (replay.unreadable.length > 0) {
            node.warn(RED._('gige-camera.errors.unreadable', { count: replay.unreadable.length, files: replay.unreadable.slice(0, 3).join(', ') }));
          }
        },
        (err: unknown) => {
          view.show('error', errorMessage(err));
          node.error(RED._('gige-camera.errors.source', { reason: errorMessage(err) }));
        },
      );
      replay.onFrame = (frame: FrameRef) => {
        node.send({ topic: pos, bottleId: frame.bottleId, frame });
        const c = replay.counters();
        status.show(c.missed > 0 ? 'warn' : 'ok', RED._('gige-camera.status.frames', { frames: c.frames, missed: c.missed }));
      };
      return { camera: replay, isLost: () => false, stop: () => undefined };
    }

    function startGige(node: Node, d: NodeDef, settings: GigeSettings, pos: CameraPosition): Started {
      const camera = new GigeSource({
        id: d.id,
        position: pos,
        camera: settings.camera,
        features: settings.features,
        frameTimeoutMs: settings.frameTimeoutMs,
      }, line.clock);
      let lost = false;
      let closed = false;
      let summary = '';
      view.show('busy', RED._('gige-camera.status.connecting', { camera: settings.label }));
      camera.ready().then(
        () => {
          if (closed) return;
          summary = describeAccepted(camera.accepted);
          const differences = compareFeatures(settings.features, camera.accepted);
          if (differences.length > 0) {
            node.warn(RED._('gige-camera.errors.adjusted', { camera: settings.label, changes: differences.join('; ') }));
          }
          const format = camera.accepted.pixelFormat ?? '';
          if (!PASSED_ON_FORMATS.includes(format)) {
            node.warn(RED._('gige-camera.errors.formatNotPassedOn', { format }));
            view.show('warn', RED._('gige-camera.status.formatNotPassedOn', { summary }));
          } else {
            view.show('ok', RED._('gige-camera.status.acquiring', { summary }));
          }
        },
        (err: unknown) => {
          if (closed) return;
          view.show('error', errorMessage(err));
          node.error(RED._('gige-camera.errors.source', { reason: errorMessage(err) }));
        },
      );
      camera.on('lost', (reason: string) => {
        if (closed) return;
        lost = true;
        // Straight to the view: a throttled frame count still pending must not paint over it.
        status.close();
        view.show('error', RED._('gige-camera.status.lost', { reason }));
        node.warn(RED._('gige-camera.errors.lost', { camera: settings.label, reason }));
      });
      camera.on('restored', () => {
        if (closed) return;
        lost = false;
        summary = describeAccepted(camera.accepted);
        view.show('ok', RED._('gige-camera.status.acquiring', { summary }));
        node.log(RED._('gige-camera.log.restored', { camera: settings.label }));
      });
      camera.onFrame = (frame: FrameRef) => {
        node.send({ topic: pos, bottleId: frame.bottleId, frame });
        if (lost) return;
        const c = camera.counters();
        status.show(c.missed > 0 ? 'warn' : 'ok', RED._('gige-camera.status.gigeFrames', { summary, frames: c.frames, missed: c.missed }));
      };
      return {
        camera,
        isLost: () => lost,
        stop: () => {
          closed = true;
          camera.removeAllListeners('lost');
          camera.removeAllListeners('restored');
        },
      };
    }
  }

  RED.nodes.registerType('gige-camera', GigeCameraNode);
};

/** "1600x1200 Mono8 @ 28 fps", from what the camera accepted. */
function describeAccepted(a: NativeGigeAccepted): string {
  const size = a.width !== undefined && a.height !== undefined ? `${a.width}x${a.height}` : 'size unknown';
  const rate = a.frameRate !== undefined ? ` @ ${round(a.frameRate)} fps` : '';
  const trigger = a.triggerMode && a.triggerMode !== 'continuous' ? `, ${a.triggerMode} trigger` : '';
  return `${size} ${a.pixelFormat ?? 'format unknown'}${rate}${trigger}`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** "name requested → accepted" for every requested feature the camera set to something else. */
function compareFeatures(requested: NativeGigeFeatures, accepted: NativeGigeAccepted): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(requested) as [keyof NativeGigeFeatures, unknown][]) {
    if (want === undefined) continue;
    const got = (accepted as Record<string, unknown>)[key];
    if (got === undefined) {
      out.push(`${key} ${String(want)} → not reported by the camera`);
      continue;
    }
    const same = typeof want === 'number' && typeof got === 'number'
      ? Math.abs(want - got) <= Math.max(1e-6, Math.abs(want) * 1e-3)
      : String(want) === String(got);
    if (!same) out.push(`${key} ${String(want)} → ${typeof got === 'number' ? round(got) : String(got)}`);
  }
  return out;
}

function validateCommon(def: NodeDef): string | undefined {
  const source = str(def, 'source', 'replay');
  if (!(SOURCES as readonly string[]).includes(source)) {
    return `source must be one of ${SOURCES.join(', ')}, got "${source}"`;
  }
  const position = str(def, 'position');
  if (!CAMERA_POSITIONS.includes(position as CameraPosition)) {
    return `position must be one of ${CAMERA_POSITIONS.join(', ')}, got "${position}"`;
  }
  return undefined;
}

function validateReplay(def: NodeDef): string | undefined {
  if (str(def, 'folder') === '') return 'no image folder given';
  const width = num(def, 'width', 0);
  const height = num(def, 'height', 0);
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!(Number.isInteger(v) && v >= 0 && v <= MAX_SIDE_PX)) return `${name} must be blank or a whole number 1..${MAX_SIDE_PX}, got ${def[name]}`;
  }
  if ((width > 0) !== (height > 0)) return 'give both width and height to resize, or neither';
  return undefined;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A number field of a GigE camera: undefined when blank, NaN when not a number. */
function optional(def: NodeDef, key: string): number | undefined {
  const raw = def[key];
  if (raw === undefined || raw === null || String(raw).trim() === '') return undefined;
  return num(def, key, NaN);
}

/** Reads and checks the GigE fields; returns the settings, or a message naming the bad field. */
function readGige(def: NodeDef): GigeSettings | string {
  const name = str(def, 'camera');
  const by = str(def, 'cameraBy', 'serial') || 'serial';
  if (!(CAMERA_BY as readonly string[]).includes(by)) return `camera by must be one of ${CAMERA_BY.join(', ')}, got "${by}"`;
  if (name === '') return 'camera: give the serial number, user id or IPv4 address of the camera';
  if (by === 'address' && !IPV4.test(name)) return `camera: "${name}" is not an IPv4 address such as 192.168.1.20`;
  const camera: GigeCameraTarget = by === 'address' ? { address: name } : by === 'userId' ? { userId: name } : { serial: name };
  const label = by === 'address' ? `address ${name}` : by === 'userId' ? `user id "${name}"` : `serial "${name}"`;

  const features: NativeGigeFeatures = {};
  const pixelFormat = str(def, 'pixelFormat');
  if (pixelFormat !== '') {
    if (!(GIGE_PIXEL_FORMATS as readonly string[]).includes(pixelFormat)) {
      return `pixel format must be blank or one of ${GIGE_PIXEL_FORMATS.join(', ')}, got "${pixelFormat}"`;
    }
    features.pixelFormat = pixelFormat;
  }
  const whole = (key: string, label: string, min: number, max: number): string | undefined => {
    const v = optional(def, key);
    if (v === undefined) return undefined;
    if (!(Number.isInteger(v) && v >= min && v <= max)) {
      return `${label} must be blank or a whole number ${min}..${max}, got ${String(def[key])}`;
    }
    (features as Record<string, number>)[key === 'packetDelay' ? 'packetDelayNs' : key] = v;
    return undefined;
  };
  const bad = whole('width', 'width', 1, MAX_SIDE_PX) ?? whole('height', 'height', 1, MAX_SIDE_PX)
    ?? whole('offsetX', 'offset x', 0, MAX_SIDE_PX) ?? whole('offsetY', 'offset y', 0, MAX_SIDE_PX)
    ?? whole('packetSize', 'packet size', 576, 65536) ?? whole('packetDelay', 'packet delay (ns)', 0, 1_000_000_000);
  if (bad) return bad;

  const exposure = optional(def, 'exposureUs');
  if (exposure !== undefined) {
    if (!(exposure > 0)) return `exposure must be blank or above 0 µs, got ${String(def.exposureUs)}`;
    features.exposureUs = exposure;
  }
  const gain = optional(def, 'gainDb');
  if (gain !== undefined) {
    if (!Number.isFinite(gain)) return `gain must be blank or a number of dB, got ${String(def.gainDb)}`;
    features.gain = gain;
  }
  const frameRate = optional(def, 'frameRate');
  if (frameRate !== undefined) {
    if (!(frameRate > 0 && frameRate <= 1000)) return `frame rate must be blank or above 0 and at most 1000 fps, got ${String(def.frameRate)}`;
    features.frameRate = frameRate;
  }
  const mode = str(def, 'triggerMode');
  if (mode !== '') {
    if (!(TRIGGER_MODES as readonly string[]).includes(mode)) {
      return `trigger mode must be blank or one of ${TRIGGER_MODES.join(', ')}, got "${mode}"`;
    }
    features.triggerMode = mode as NativeGigeFeatures['triggerMode'];
  }
  if (mode === 'hardware') {
    const triggerLine = str(def, 'triggerLine');
    if (triggerLine !== '') {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(triggerLine)) return `trigger line must be a TriggerSource entry such as Line0, got "${triggerLine}"`;
      features.triggerLine = triggerLine;
    }
    const edge = str(def, 'triggerEdge');
    if (edge !== '') {
      if (!(TRIGGER_EDGES as readonly string[]).includes(edge)) return `trigger edge must be rising or falling, got "${edge}"`;
      features.triggerEdge = edge as NativeGigeFeatures['triggerEdge'];
    }
  }
  const timeout = optional(def, 'frameTimeoutMs');
  if (timeout !== undefined && !(timeout >= 1 && timeout <= 10_000)) {
    return `frame timeout must be blank or 1..10000 ms, got ${String(def.frameTimeoutMs)}`;
  }
  return { camera, label, features, frameTimeoutMs: timeout };
}
