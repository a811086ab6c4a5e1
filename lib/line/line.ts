import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { CameraSource } from '../camera/source';
import { CAMERA_POSITIONS, type CameraPosition } from '../frames/frame-ref';
import { FramePool } from '../frames/frame-pool';
import { loadNative } from '../native';
import type { NativeInspector } from '../native/types';
import { BottleTracker, type Bottle } from '../tracking/tracker';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { InspectionError, errorMessage } from '../util/errors';

/** How one inspection line is built and run. Lengths in mm, speeds in m/s, times in ms. */
export interface LineOptions {
  id: string;
  name?: string;
  /** Views every bottle must have, one camera each. */
  positions: CameraPosition[];
  /** Simulated photo-eye: bottles per second. */
  triggerRateHz: number;
  /** Stop triggering after this many bottles; 0 runs until the line is closed. */
  maxBottles: number;
  conveyorSpeedMps: number;
  cameraToRejectMm: number;
  /** Time the PLC and the reject actuator need before the bottle reaches the gate. */
  actuatorLeadMs: number;
  /** Frame pool slots; 0 sizes the pool from the rate, the views and the deadline. */
  poolSlots: number;
  /** Native inspection threads; 0 uses one per core. */
  inspectionThreads: number;
}

export const DEFAULT_LINE: Omit<LineOptions, 'id'> = {
  positions: ['top', 'left'],
  triggerRateHz: 10,
  maxBottles: 0,
  conveyorSpeedMps: 2,
  cameraToRejectMm: 800,
  actuatorLeadMs: 30,
  poolSlots: 0,
  inspectionThreads: 0,
};

/** The simulated photo-eye's limit: well above any bottling line, and what two cores can inspect. */
export const MAX_TRIGGER_RATE_HZ = 200;
/** Memory an automatically sized frame pool may take. A pool set by hand may take more. */
const AUTO_POOL_BYTES = 1024 * 1024 * 1024;

export type LineState = 'idle' | 'starting' | 'running' | 'finished' | 'stopped' | 'error';

/** Validates line options; returns a message naming the first bad value, or undefined. */
export function validateLine(o: LineOptions): string | undefined {
  if (!Array.isArray(o.positions) || o.positions.length === 0) return 'at least one camera position is needed';
  const bad = o.positions.find((p) => !CAMERA_POSITIONS.includes(p));
  if (bad) return `unknown camera position "${bad}" (expected ${CAMERA_POSITIONS.join(', ')})`;
  if (new Set(o.positions).size !== o.positions.length) return 'each camera position may appear only once';
  if (!(o.triggerRateHz > 0 && o.triggerRateHz <= MAX_TRIGGER_RATE_HZ)) {
    return `trigger rate must be above 0 and at most ${MAX_TRIGGER_RATE_HZ} bottles/s, got ${o.triggerRateHz}`;
  }
  if (!(Number.isInteger(o.maxBottles) && o.maxBottles >= 0)) return `bottle limit must be a whole number ≥ 0, got ${o.maxBottles}`;
  if (!(o.conveyorSpeedMps > 0 && o.conveyorSpeedMps <= 20)) return `conveyor speed must be above 0 and at most 20 m/s, got ${o.conveyorSpeedMps}`;
  if (!(o.cameraToRejectMm > 0)) return `camera-to-reject distance must be above 0 mm, got ${o.cameraToRejectMm}`;
  if (!(o.actuatorLeadMs >= 0)) return `actuator lead must be ≥ 0 ms, got ${o.actuatorLeadMs}`;
  if (deadlineBudgetMs(o) < 10) {
    return `the bottle reaches the reject gate ${deadlineBudgetMs(o).toFixed(0)} ms after its trigger (distance ÷ speed − actuator lead); at least 10 ms are needed`;
  }
  if (!(Number.isInteger(o.poolSlots) && o.poolSlots >= 0 && o.poolSlots <= 4096)) return `pool slots must be 0 (automatic) to 4096, got ${o.poolSlots}`;
  if (o.poolSlots > 0 && o.poolSlots < 4 * o.positions.length) {
    return `pool slots must be 0 (automatic) or at least 4 per camera position (${4 * o.positions.length}), got ${o.poolSlots}`;
  }
  if (!(Number.isInteger(o.inspectionThreads) && o.inspectionThreads >= 0 && o.inspectionThreads <= 64)) {
    return `inspection threads must be 0 (one per core) to 64, got ${o.inspectionThreads}`;
  }
  return undefined;
}

/** Time from trigger until the PLC must know the verdict: distance ÷ speed − actuator lead. */
export function deadlineBudgetMs(o: Pick<LineOptions, 'cameraToRejectMm' | 'conveyorSpeedMps' | 'actuatorLeadMs'>): number {
  return o.cameraToRejectMm / o.conveyorSpeedMps - o.actuatorLeadMs;
}

/**
 * The heart of one inspection line: its frame pool, its inspection threads, its bottle tracker and
 * its trigger. Cameras register with it; each trigger opens one bottle and asks every camera for a
 * frame of it, so the views of one bottle stay together.
 *
 * Events: 'state' (state, detail?), 'bottle' (bottle), 'missed' (camera, bottle, reason).
 */
export class Line extends EventEmitter {
  readonly options: LineOptions;
  readonly tracker: BottleTracker;
  private readonly cameras = new Map<string, CameraSource>();
  /** Other things the line waits for before its first trigger, such as a reference being taught. */
  private readonly prerequisites = new Set<Promise<unknown>>();
  private framePool?: FramePool;
  private nativeInspector?: NativeInspector;
  private timer?: TimerHandle;
  private triggersFired = 0;
  private startedAtMs = 0;
  private currentState: LineState = 'idle';

  constructor(options: LineOptions, readonly clock: Clock = systemClock) {
    super();
    const problem = validateLine(options);
    if (problem) throw new InspectionError('INVALID_CONFIG', problem);
    this.options = { ...options, positions: [...options.positions] };
    this.tracker = new BottleTracker(clock);
  }

  get state(): LineState {
    return this.currentState;
  }

  get id(): string {
    return this.options.id;
  }

  get deadlineBudgetMs(): number {
    return deadlineBudgetMs(this.options);
  }

  get pool(): FramePool | undefined {
    return this.framePool;
  }

  get inspector(): NativeInspector | undefined {
    return this.nativeInspector;
  }

  get bottlesTriggered(): number {
    return this.triggersFired;
  }

  registerCamera(source: CameraSource): void {
    if (this.cameras.has(source.id)) throw new InspectionError('INVALID_CONFIG', `camera ${source.id} is registered twice`);
    this.cameras.set(source.id, source);
    source.onMissed = (bottle, reason) => this.emit('missed', source, bottle, reason);
  }

  unregisterCamera(source: CameraSource): void {
    if (this.cameras.get(source.id) === source) this.cameras.delete(source.id);
  }

  /** Hold the first trigger until `ready` settles; a rejection puts the line in the error state. */
  waitFor(ready: Promise<unknown>): void {
    this.prerequisites.add(ready);
  }

  cameraList(): CameraSource[] {
    return [...this.cameras.values()];
  }

  /**
   * Wait for every registered camera, size and allocate the pool, start the inspection threads,
   * then start triggering. A camera that fails to get ready puts the line in the error state.
   */
  async start(): Promise<void> {
    if (this.currentState !== 'idle') return;
    this.setState('starting');
    try {
      await Promise.all([...this.cameraList().map((c) => c.ready()), ...this.prerequisites]);
      if (this.isClosed()) return;
      this.allocate();
      for (const camera of this.cameras.values()) camera.attach?.(this.framePool!);
    } catch (err) {
      if (!this.isClosed()) this.setState('error', errorMessage(err));
      throw err;
    }
    this.startedAtMs = this.clock.now();
    this.setState('running');
    this.scheduleTrigger();
  }

  /** Fire one trigger now: open a bottle and ask every camera for its view. */
  trigger(): Bottle {
    const now = this.clock.now();
    const bottle = this.tracker.openBottle(now, now + this.deadlineBudgetMs);
    this.triggersFired++;
    this.emit('bottle', bottle);
    const pool = this.framePool;
    for (const camera of this.cameras.values()) {
      if (!pool) {
        this.emit('missed', camera, bottle, 'line not started');
        continue;
      }
      try {
        camera.capture(bottle, pool);
      } catch (err) {
        // A camera that fails on one trigger loses that view, not the line.
        this.emit('missed', camera, bottle, errorMessage(err));
      }
    }
    return bottle;
  }

  /** Stop triggering, settle bottles still on the line as fail-safe, free threads and pool. */
  close(): void {
    if (this.isClosed()) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.tracker.settleAll('stopped');
    this.nativeInspector?.close();
    this.nativeInspector = undefined;
    this.framePool?.close();
    this.framePool = undefined;
    this.setState('stopped');
  }

  private isClosed(): boolean {
    return this.currentState === 'stopped';
  }

  private allocate(): void {
    const slotBytes = Math.max(1, ...this.cameraList().map((c) => c.maxFrameBytes));
    const slots = this.options.poolSlots || this.autoPoolSlots(slotBytes);
    const threads = this.options.inspectionThreads || Math.max(1, os.availableParallelism());
    const addon = loadNative();
    this.framePool = new FramePool(this.id, slotBytes, slots);
    this.nativeInspector = new addon.Inspector(this.framePool.native, threads, slots);
  }

  /**
   * Enough slots for every view of every bottle between its trigger and its deadline, twice over,
   * within a memory budget: past it, frames of bottles long decided are what is given up.
   */
  private autoPoolSlots(slotBytes: number): number {
    const views = Math.max(this.options.positions.length, this.cameras.size, 1);
    const inFlight = Math.ceil(this.options.triggerRateHz * (this.deadlineBudgetMs / 1000)) + 1;
    const wanted = Math.max(16, views * inFlight * 2);
    return Math.max(views * 4, Math.min(wanted, Math.floor(AUTO_POOL_BYTES / slotBytes)));
  }

  /** Triggers are scheduled against the start time, so timer jitter does not add up into drift. */
  private scheduleTrigger(): void {
    const { maxBottles, triggerRateHz } = this.options;
    if (maxBottles > 0 && this.triggersFired >= maxBottles) {
      this.setState('finished');
      return;
    }
    const dueMs = this.startedAtMs + (this.triggersFired * 1000) / triggerRateHz;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.currentState !== 'running') return;
      this.trigger();
      this.scheduleTrigger();
    }, dueMs - this.clock.now());
  }

  private setState(state: LineState, detail?: string): void {
    this.currentState = state;
    this.emit('state', state, detail);
  }
}
