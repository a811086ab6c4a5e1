import type { Node, NodeStatus } from './red';

/** The states every node of the package shows, each with one colour and shape. */
export type StatusKind = 'ok' | 'busy' | 'warn' | 'error' | 'idle';

const LOOK: Record<StatusKind, NodeStatus> = {
  ok: { fill: 'green', shape: 'dot' },
  busy: { fill: 'blue', shape: 'ring' },
  warn: { fill: 'yellow', shape: 'ring' },
  error: { fill: 'red', shape: 'ring' },
  idle: { fill: 'grey', shape: 'ring' },
};

/**
 * Shows a status, and leaves the node alone when nothing changed: status updates travel to every
 * open editor, so a node that reports per bottle must not repeat itself.
 */
export class StatusView {
  private last = '';

  constructor(private readonly node: Node) {}

  show(kind: StatusKind, text: string): void {
    const key = `${kind}|${text}`;
    if (key === this.last) return;
    this.last = key;
    this.node.status({ ...LOOK[kind], text });
  }

  clear(): void {
    this.last = '';
    this.node.status({});
  }
}

/** Throttles status text that changes with every bottle to a few updates a second. */
export class ThrottledStatus {
  private timer?: NodeJS.Timeout;
  private pending?: [StatusKind, string];

  constructor(private readonly view: StatusView, private readonly intervalMs = 250) {}

  show(kind: StatusKind, text: string): void {
    this.pending = [kind, text];
    if (this.timer) return;
    this.flush();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending) this.flush();
    }, this.intervalMs);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private flush(): void {
    const [kind, text] = this.pending!;
    this.pending = undefined;
    this.view.show(kind, text);
  }
}

/**
 * Reports per-message failures to Node-RED (`done(err)`, which logs them and wakes Catch nodes)
 * without flooding the log: the first failure of a kind is reported, repeats within the window
 * are counted and mentioned with the next one reported after it. The message itself still goes
 * out where the node sends results, so nothing is hidden from the flow.
 */
export class ErrorThrottle {
  private readonly seen = new Map<string, { atMs: number; repeats: number }>();

  constructor(private readonly windowMs = 10_000) {}

  report(done: (err?: Error) => void, message: string, kind = message): void {
    const now = Date.now();
    const last = this.seen.get(kind);
    if (last && now - last.atMs < this.windowMs) {
      last.repeats++;
      done();
      return;
    }
    const repeats = last?.repeats ?? 0;
    this.seen.set(kind, { atMs: now, repeats: 0 });
    done(new Error(repeats > 0 ? `${message} (and ${repeats} more like it before)` : message));
  }
}
