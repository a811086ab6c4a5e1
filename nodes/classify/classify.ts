import { BottleClassifier, validateClassifier, type ClassifierOptions } from '../../lib/decision/classifier';
import { DEFAULT_DECISION, type Verdict } from '../../lib/decision/decide';
import type { CameraSource } from '../../lib/camera/source';
import { checkInspectionResult, type InspectionResult } from '../../lib/inspection/types';
import type { Bottle } from '../../lib/tracking/tracker';
import { num } from '../shared/config';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../shared/red';
import { startLineNode } from '../shared/setup';
import { ErrorThrottle, ThrottledStatus } from '../shared/status';

/**
 * Groups the inspection results of each bottle's views and sends one verdict per bottle: pass,
 * fail with the reason, or uncertain when a view is missing or came too late. Every bottle the
 * line triggers gets a verdict, even one whose views never arrived.
 */
export = function register(RED: NodeAPI): void {
  function ClassifyNode(this: Node, def: NodeDef): void {
    const started = startLineNode(RED, this, def);
    if (!started) return;
    const { line, view, refuse } = started;
    const status = new ThrottledStatus(view);
    const options: ClassifierOptions = {
      sensitivity: num(def, 'sensitivity', DEFAULT_DECISION.sensitivity),
      minConfidence: num(def, 'minConfidence', DEFAULT_DECISION.minConfidence),
      maxDefects: num(def, 'maxDefects', DEFAULT_DECISION.maxDefects),
      viewTimeoutMs: num(def, 'viewTimeoutMs', Math.round(line.deadlineBudgetMs * 0.6)),
    };
    const problem = validateClassifier(options);
    if (problem) {
      refuse(problem);
      return;
    }
    if (options.viewTimeoutMs >= line.deadlineBudgetMs) {
      this.warn(RED._('classify.errors.timeoutAfterDeadline', {
        timeout: options.viewTimeoutMs, budget: Math.round(line.deadlineBudgetMs),
      }));
    }

    const strays = new ErrorThrottle();
    const classifier = new BottleClassifier(line.options.positions, options, line.clock);
    const counts = { pass: 0, fail: 0, uncertain: 0 };
    view.show('idle', RED._('classify.status.waiting'));

    classifier.on('verdict', (verdict: Verdict) => {
      line.tracker.recordVerdict(verdict);
      counts[verdict.verdict]++;
      this.send({ topic: verdict.verdict, bottleId: verdict.bottleId, payload: verdict.verdict, verdict });
      status.show(counts.uncertain > 0 ? 'warn' : 'ok', RED._('classify.status.counts', counts));
    });
    const onBottle = (bottle: Bottle) => classifier.open(bottle.id, bottle.triggerTimeMs);
    const onMissed = (camera: CameraSource, bottle: Bottle) => classifier.markMissing(bottle.id, bottle.triggerTimeMs, camera.position);
    line.on('bottle', onBottle);
    line.on('missed', onMissed);

    this.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      const problem = checkInspectionResult(msg.inspection, line.options.positions);
      if (problem) {
        done(new Error(RED._('classify.errors.badInspection', { reason: problem })));
        return;
      }
      const result = msg.inspection as InspectionResult;
      if (!line.tracker.get(result.bottleId)) {
        // The bottle left the line (settled at its deadline) or never was on it: nothing to decide.
        strays.report(done, RED._('classify.errors.notOnLine', { bottle: result.bottleId }));
        return;
      }
      classifier.add(result);
      done();
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      line.off('bottle', onBottle);
      line.off('missed', onMissed);
      classifier.close();
      status.close();
      view.clear();
      done();
    });
  }

  RED.nodes.registerType('classify', ClassifyNode);
};
