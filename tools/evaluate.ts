/**
 * Measures how well the taught-reference inspection separates good from defective bottles on a
 * labelled image set.
 *
 *   node dist/tools/evaluate.js --images DIR --labels FILE --teach DIR [--json]
 *       [--threshold X] [--min-area N] [--max-shift F] [--work-size N] [--details]
 *
 * labels: CSV `file,label,defect_type,view` with a header row; `label` is pass or fail; several
 * defect types are joined by `+`. The first path segment of `file` names its view; each view is
 * taught from the good images in `<teach>/<view>/`. An image counts as detected (positive) when
 * its verdict under DEFAULT_DECISION is not `pass` (uncertain and unreadable count as fail; the
 * report counts the unreadable ones, missing files included, in `unreadable`).
 * With --json, stdout holds exactly one JSON object and all logging goes to stderr.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { DEFAULT_DECISION, decide, type DecisionOptions } from '../lib/decision/decide';
import { FramePool } from '../lib/frames/frame-pool';
import { channelsOf } from '../lib/frames/frame-ref';
import { loadImage } from '../lib/inspection/images';
import {
  DEFAULT_INSPECT_PARAMS, inspectFrame, validateInspectParams, type InspectParams,
} from '../lib/inspection/inspect-frame';
import { DEFAULT_WORK_SIZE, teachFromFolder, type TaughtReference } from '../lib/inspection/reference';
import type { InspectionResult } from '../lib/inspection/types';
import { loadNative } from '../lib/native';
import type { NativeInspector } from '../lib/native/types';
import { InspectionError, errorCode, errorMessage } from '../lib/util/errors';

export interface EvaluateOptions {
  images: string;
  labels: string;
  teach: string;
  params?: Partial<InspectParams>;
  workSize?: number;
  /** Include one entry per image in the report. */
  details?: boolean;
  /** Progress lines (the CLI sends them to stderr); silent by default. */
  log?: (line: string) => void;
}

export interface ConfusionCounts {
  total: number;
  truePositive: number;
  falsePositive: number;
  trueNegative: number;
  falseNegative: number;
}

export interface ImageOutcome {
  file: string;
  view: string;
  expectedFail: boolean;
  defectTypes: string[];
  verdict: string;
  score: number;
  defects: { severity: number; confidence: number; areaPx: number; counted: boolean }[];
  error?: string;
  /** The image is missing or could not be decoded; it counts as a fail. */
  unreadable?: true;
}

export interface EvaluationReport extends ConfusionCounts {
  images: string;
  /** Listed images that are missing or could not be decoded; each is counted as a fail. */
  unreadable: number;
  perDefectType: Record<string, { total: number; detected: number }>;
  perView: Record<string, ConfusionCounts>;
  /** Average native inspection time per image, in milliseconds. */
  msPerImage: number;
  config: { inspect: InspectParams; workSize: number; decision: DecisionOptions };
  details?: ImageOutcome[];
}

export interface LabelRow {
  file: string;
  expectedFail: boolean;
  defectTypes: string[];
  view: string;
}

/** Parses labels CSV text (LF or CRLF, header row first). */
export function parseLabels(text: string, source = 'labels'): LabelRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new InspectionError('INVALID_INPUT', `${source} is empty`);
  const header = lines[0].split(',').map((h) => h.trim().toLowerCase());
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) {
      throw new InspectionError('INVALID_INPUT', `${source} has no "${name}" column (header: ${lines[0]})`);
    }
    return i;
  };
  const fileCol = col('file');
  const labelCol = col('label');
  const typeCol = col('defect_type');
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    const file = cells[fileCol] ?? '';
    const label = (cells[labelCol] ?? '').toLowerCase();
    if (!file) throw new InspectionError('INVALID_INPUT', `${source} line ${i + 2} has no file`);
    if (label !== 'pass' && label !== 'fail') {
      throw new InspectionError(
        'INVALID_INPUT', `${source} line ${i + 2}: label must be pass or fail, got "${label}"`);
    }
    const defectTypes = (cells[typeCol] ?? '').split('+').map((t) => t.trim()).filter((t) => t.length > 0);
    const view = file.split(/[\\/]/)[0];
    return { file, expectedFail: label === 'fail', defectTypes, view };
  });
}

const emptyCounts = (): ConfusionCounts => ({
  total: 0, truePositive: 0, falsePositive: 0, trueNegative: 0, falseNegative: 0,
});

function tally(counts: ConfusionCounts, expectedFail: boolean, detected: boolean): void {
  counts.total++;
  if (expectedFail) {
    if (detected) counts.truePositive++;
    else counts.falseNegative++;
  } else if (detected) counts.falsePositive++;
  else counts.trueNegative++;
}

/** Teaches one reference per view, inspects every labelled image and counts the outcomes. */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluationReport> {
  const log = opts.log ?? ((): void => undefined);
  const params: InspectParams = { ...DEFAULT_INSPECT_PARAMS, ...opts.params };
  const problem = validateInspectParams(params);
  if (problem) throw new InspectionError('INVALID_CONFIG', problem);
  const workSize = opts.workSize ?? DEFAULT_WORK_SIZE;

  let labelText: string;
  try {
    labelText = fs.readFileSync(opts.labels, 'utf8');
  } catch (err) {
    throw new InspectionError(
      'FOLDER_MISSING', `cannot read labels file ${opts.labels}: ${errorMessage(err)}`);
  }
  const rows = parseLabels(labelText, opts.labels);
  if (rows.length === 0) {
    throw new InspectionError('INVALID_INPUT', `labels file ${opts.labels} lists no images`);
  }
  const views = [...new Set(rows.map((r) => r.view))].sort();

  // One reference per view; a view without a teach folder is a configuration error.
  const references = new Map<string, TaughtReference>();
  for (const view of views) {
    const dir = path.join(opts.teach, view);
    if (!fs.existsSync(dir)) {
      throw new InspectionError(
        'TEACH_FOLDER_MISSING', `view "${view}" has no teach folder: looked for ${dir}`);
    }
    const started = Date.now();
    const reference = await teachFromFolder(dir, { workSize });
    references.set(view, reference);
    log(`taught ${view} from ${reference.imageCount} images (${reference.width}x${reference.height}) ` +
      `in ${Date.now() - started} ms`);
  }

  const frameBytes = [...references.values()].map((r) => r.width * r.height * channelsOf(r.pixelFormat));
  const slotBytes = Math.max(...frameBytes);
  const pool = new FramePool('evaluate', slotBytes, 4);
  const inspector = new (loadNative().Inspector)(pool.native, 1, 4);
  const report: EvaluationReport = {
    ...emptyCounts(),
    images: opts.images,
    unreadable: 0,
    perDefectType: {},
    perView: {},
    msPerImage: 0,
    config: { inspect: params, workSize, decision: DEFAULT_DECISION },
    ...(opts.details ? { details: [] } : {}),
  };
  let inspectMsTotal = 0;
  let inspected = 0;

  try {
    for (const [index, row] of rows.entries()) {
      const reference = references.get(row.view) as TaughtReference;
      const file = path.join(opts.images, row.file);
      const result = await inspectOne(file, index, reference, pool, inspector, params);
      if (result.ok) {
        inspectMsTotal += result.inspectMs;
        inspected++;
      }
      const verdict = decide(index, 0, ['top'], new Map([['top', result]]), DEFAULT_DECISION, 0);
      const detected = verdict.verdict !== 'pass';
      const unreadable = !result.ok && result.error?.code === 'IMAGE_UNREADABLE';
      if (unreadable) report.unreadable++;

      tally(report, row.expectedFail, detected);
      report.perView[row.view] ??= emptyCounts();
      tally(report.perView[row.view], row.expectedFail, detected);
      if (row.expectedFail) {
        for (const type of row.defectTypes) {
          const entry = (report.perDefectType[type] ??= { total: 0, detected: 0 });
          entry.total++;
          if (detected) entry.detected++;
        }
      }
      const counted = new Set(verdict.defects.map((d) => `${d.rect.x},${d.rect.y},${d.areaPx}`));
      const outcome: ImageOutcome = {
        file: row.file, view: row.view, expectedFail: row.expectedFail, defectTypes: row.defectTypes,
        verdict: verdict.verdict, score: round(result.score),
        defects: result.defects.map((d) => ({
          severity: round(d.severity), confidence: round(d.confidence), areaPx: d.areaPx,
          counted: counted.has(`${d.rect.x},${d.rect.y},${d.areaPx}`),
        })),
        ...(result.error ? { error: `${result.error.code}: ${result.error.message}` } : {}),
        ...(unreadable ? { unreadable: true as const } : {}),
      };
      report.details?.push(outcome);
      const mark = detected === row.expectedFail ? 'ok ' : 'BAD';
      const expected = `expected ${row.expectedFail ? 'fail' : 'pass'}`;
      log(unreadable
        ? `${mark} ${row.file} ${expected} got unreadable, counted as fail (${result.error?.message})`
        : `${mark} ${row.file} ${expected} got ${verdict.verdict} ` +
          `score ${outcome.score} defects ${result.defects.length}` +
          (outcome.error ? ` (${outcome.error})` : ''));
    }
  } finally {
    inspector.close();
    pool.close();
  }
  report.msPerImage = inspected > 0 ? round(inspectMsTotal / inspected) : 0;
  return report;
}

async function inspectOne(
  file: string,
  bottleId: number,
  reference: TaughtReference,
  pool: FramePool,
  inspector: NativeInspector,
  params: InspectParams,
): Promise<InspectionResult> {
  const failed = (code: string, message: string): InspectionResult => ({
    bottleId, camera: 'evaluate', position: 'top', ok: false, error: { code, message },
    defects: [], score: 0, inspectMs: 0, latencyMs: 0, triggerTimeMs: 0,
  });
  let image;
  try {
    image = await loadImage(file, { grey: reference.pixelFormat === 'Mono8' });
  } catch (err) {
    // Missing or undecodable: either way the image is unreadable, and counts as a fail.
    return failed('IMAGE_UNREADABLE', fs.existsSync(file) ? errorMessage(err) : `${file} does not exist`);
  }
  if (image.width * image.height * channelsOf(image.pixelFormat) > pool.slotBytes) {
    return failed('SIZE_MISMATCH', `${file} is ${image.width}x${image.height}, the reference is ` +
      `${reference.width}x${reference.height}`);
  }
  const frame = pool.put(image, {
    camera: 'evaluate', position: 'top', bottleId, sequence: bottleId, triggerTimeMs: 0, captureTimeMs: 0,
  });
  if (!frame) return failed('POOL_EXHAUSTED', 'every frame pool slot is pinned');
  return inspectFrame(inspector, pool, frame, reference, params, () => 0);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Readable table of a report. */
export function formatReport(r: EvaluationReport): string {
  const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(0)}%`);
  const lines = [
    `images: ${r.images}`,
    `config: threshold ${r.config.inspect.threshold}, min area ${r.config.inspect.minAreaPx} px, ` +
      `max shift ${r.config.inspect.maxShift}, work size ${r.config.workSize}`,
    '',
    '                 predicted fail   predicted pass',
    `  actual fail    ${String(r.truePositive).padStart(14)}   ${String(r.falseNegative).padStart(14)}`,
    `  actual pass    ${String(r.falsePositive).padStart(14)}   ${String(r.trueNegative).padStart(14)}`,
    '',
    `defective detected ${r.truePositive}/${r.truePositive + r.falseNegative} ` +
      `(${pct(r.truePositive, r.truePositive + r.falseNegative)}), good passed ${r.trueNegative}/` +
      `${r.trueNegative + r.falsePositive} (${pct(r.trueNegative, r.trueNegative + r.falsePositive)}), ` +
      `${r.msPerImage} ms per image`,
    ...(r.unreadable > 0 ? [`unreadable images (counted as fail): ${r.unreadable}`] : []),
    '',
    'per view:            TP   FP   TN   FN',
    ...Object.entries(r.perView).map(([view, c]) =>
      `  ${view.padEnd(18)}${[c.truePositive, c.falsePositive, c.trueNegative, c.falseNegative]
        .map((n) => String(n).padStart(5)).join('')}`),
    '',
    'per defect type:     detected / total',
    ...Object.entries(r.perDefectType).map(([type, c]) => `  ${type.padEnd(20)}${c.detected} / ${c.total}`),
  ];
  return `${lines.join('\n')}\n`;
}

const USAGE = 'usage: evaluate --images DIR --labels FILE --teach DIR [--json] [--details] ' +
  '[--threshold X] [--min-area N] [--max-shift F] [--work-size N]';

export function parseArgs(argv: readonly string[]): EvaluateOptions & { json: boolean } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json' || arg === '--details') flags.add(arg);
    else if (arg.startsWith('--') && i + 1 < argv.length) values.set(arg, argv[++i]);
    else throw new InspectionError('INVALID_CONFIG', `unexpected argument ${arg}\n${USAGE}`);
  }
  const need = (name: string): string => {
    const v = values.get(name);
    if (!v) throw new InspectionError('INVALID_CONFIG', `${name} is required\n${USAGE}`);
    return v;
  };
  const num = (name: string): number | undefined => {
    const v = values.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) {
      throw new InspectionError('INVALID_CONFIG', `${name} must be a number, got ${v}`);
    }
    return n;
  };
  const params: Partial<InspectParams> = {};
  const threshold = num('--threshold');
  const minArea = num('--min-area');
  const maxShift = num('--max-shift');
  if (threshold !== undefined) params.threshold = threshold;
  if (minArea !== undefined) params.minAreaPx = minArea;
  if (maxShift !== undefined) params.maxShift = maxShift;
  const known = [
    '--images', '--labels', '--teach', '--threshold', '--min-area', '--max-shift', '--work-size',
  ];
  for (const key of values.keys()) {
    if (!known.includes(key)) throw new InspectionError('INVALID_CONFIG', `unknown option ${key}\n${USAGE}`);
  }
  return {
    images: need('--images'), labels: need('--labels'), teach: need('--teach'),
    params, workSize: num('--work-size'), json: flags.has('--json'), details: flags.has('--details'),
  };
}

/** Exit codes: 0 done, 2 bad arguments or data set (message on stderr), 1 anything else. */
async function main(): Promise<number> {
  const stderr = (line: string): void => void process.stderr.write(`${line}\n`);
  try {
    const opts = parseArgs(process.argv.slice(2));
    const report = await evaluate({ ...opts, log: stderr });
    process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report));
    return 0;
  } catch (err) {
    stderr(`evaluate: ${errorMessage(err)}`);
    const code = errorCode(err);
    const usage = [
      'INVALID_CONFIG', 'INVALID_INPUT', 'TEACH_FOLDER_MISSING', 'TEACH_FOLDER_EMPTY', 'FOLDER_MISSING',
      'FOLDER_EMPTY', 'SIZE_MISMATCH', 'IMAGE_UNREADABLE',
    ];
    return code !== undefined && usage.includes(code) ? 2 : 1;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
