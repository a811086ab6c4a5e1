import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { evaluate, parseLabels, type ConfusionCounts } from '../tools/evaluate';
import { errorCode } from '../lib/util/errors';
import { imagesDir, repoRoot, sampleImagesDir } from './support/images';

const images = imagesDir();
const labels = path.join(images, 'labels.csv');
const teach = path.join(images, 'teach');
const cli = path.join(repoRoot, 'dist', 'tools', 'evaluate.js');

const sum = (c: ConfusionCounts): number =>
  c.truePositive + c.falsePositive + c.trueNegative + c.falseNegative;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('evaluate', () => {
  it('parses labels with CRLF line ends and several defect types joined by +', () => {
    const rows = parseLabels(
      'file,label,defect_type,view\r\na/good/1.png,pass,,top\r\nb/x/2.png,fail,cap+fill_level,side\r\n');
    assert.deepEqual(rows, [
      { file: 'a/good/1.png', expectedFail: false, defectTypes: [], view: 'a' },
      { file: 'b/x/2.png', expectedFail: true, defectTypes: ['cap', 'fill_level'], view: 'b' },
    ]);
    assert.throws(() => parseLabels('file,label,defect_type\nx.png,maybe,\n'),
      (err) => errorCode(err) === 'INVALID_INPUT');
  });

  it('counts every labelled image once, per view and per defect type', async () => {
    const rows = parseLabels(fs.readFileSync(labels, 'utf8'));
    const report = await evaluate({ images, labels, teach, details: true });
    assert.equal(report.total, rows.length);
    assert.equal(sum(report), report.total);
    assert.equal(report.truePositive + report.falseNegative, rows.filter((r) => r.expectedFail).length);
    for (const [view, counts] of Object.entries(report.perView)) {
      assert.equal(sum(counts), rows.filter((r) => r.view === view).length, view);
      assert.equal(counts.total, sum(counts));
    }
    for (const [type, counts] of Object.entries(report.perDefectType)) {
      const labelled = rows.filter((r) => r.expectedFail && r.defectTypes.includes(type));
      assert.equal(counts.total, labelled.length, type);
      assert.ok(counts.detected <= counts.total);
    }
    assert.equal(report.details?.length, rows.length);
    assert.ok(report.msPerImage > 0);
    // The method finds most defective bottles of the sample views and passes the good ones there.
    const defective = report.truePositive + report.falseNegative;
    assert.ok(report.truePositive >= Math.ceil(0.6 * defective), JSON.stringify(report.perView));
    assert.equal(report.perView.top_view.falsePositive, 0);
    assert.equal(report.perView.side_view_juice.falsePositive, 0);
  });

  it('refuses a view without a teach folder, naming the view and the path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evaluate-'));
    const file = path.join(dir, 'labels.csv');
    fs.writeFileSync(file, 'file,label,defect_type,view\nmystery_view/good/a.png,pass,,top\n');
    await assert.rejects(evaluate({ images, labels: file, teach }), (err: Error) =>
      errorCode(err) === 'TEACH_FOLDER_MISSING' && err.message.includes('mystery_view') &&
      err.message.includes(path.join(teach, 'mystery_view')));
    const args = ['--images', images, '--labels', file, '--teach', teach, '--json'];
    const { code, stdout, stderr } = await run(args);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /mystery_view/);
  });

  it('refuses a labels file with only a header row, naming the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evaluate-'));
    const file = path.join(dir, 'labels.csv');
    fs.writeFileSync(file, 'file,label,defect_type,view\r\n');
    await assert.rejects(evaluate({ images, labels: file, teach }), (err: Error) =>
      errorCode(err) === 'INVALID_INPUT' && err.message === `labels file ${file} lists no images`);
    const { code, stdout, stderr } = await run(['--images', images, '--labels', file, '--teach', teach, '--json']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, `evaluate: labels file ${file} lists no images\n`);
  });

  it('counts a missing or undecodable image as an unreadable fail', async () => {
    const samples = sampleImagesDir();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evaluate-'));
    fs.mkdirSync(path.join(dir, 'top_view', 'good'), { recursive: true });
    fs.copyFileSync(path.join(samples, 'top_view', 'good', 'mvtec_test_good_000.png'),
      path.join(dir, 'top_view', 'good', 'real.png'));
    fs.writeFileSync(path.join(dir, 'top_view', 'good', 'garbage.png'), 'not an image');
    const file = path.join(dir, 'labels.csv');
    fs.writeFileSync(file, [
      'file,label,defect_type,view',
      'top_view/good/real.png,pass,,top',
      'top_view/good/missing.png,pass,,top',
      'top_view/good/garbage.png,fail,broken_large,top',
      '',
    ].join('\n'));
    const sampleTeach = path.join(samples, 'teach');

    const report = await evaluate({ images: dir, labels: file, teach: sampleTeach, details: true });
    assert.equal(report.total, 3);
    assert.equal(report.unreadable, 2);
    assert.equal(report.trueNegative, 1);
    assert.equal(report.falsePositive, 1, 'the missing good image counts as a fail');
    assert.equal(report.truePositive, 1, 'the undecodable image counts as a fail');
    const byFile = new Map(report.details?.map((d) => [d.file, d]));
    assert.equal(byFile.get('top_view/good/real.png')?.unreadable, undefined);
    assert.equal(byFile.get('top_view/good/missing.png')?.unreadable, true);
    assert.match(byFile.get('top_view/good/missing.png')?.error ?? '', /missing\.png does not exist/);
    assert.equal(byFile.get('top_view/good/garbage.png')?.unreadable, true);

    const { code, stdout, stderr } = await run(['--images', dir, '--labels', file, '--teach', sampleTeach, '--json']);
    assert.equal(code, 0, stderr);
    assert.equal((JSON.parse(stdout) as { unreadable: number }).unreadable, 2);
    assert.match(stderr, /^BAD top_view\/good\/missing\.png expected pass got unreadable, counted as fail \(.*does not exist\)$/m);
    assert.match(stderr, /^ok  top_view\/good\/garbage\.png expected fail got unreadable, counted as fail \(/m);
    assert.match(stderr, /^ok  top_view\/good\/real\.png expected pass got pass /m);
  });

  it('prints exactly one JSON object on stdout with --json', async () => {
    const { code, stdout, stderr } = await run([
      '--images', images, '--labels', labels, '--teach', teach, '--json', '--threshold', '4',
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim().split('\n').length, 1);
    const report = JSON.parse(stdout) as Record<string, unknown> & ConfusionCounts;
    for (const key of [
      'total', 'truePositive', 'falsePositive', 'trueNegative', 'falseNegative', 'perDefectType',
      'perView', 'msPerImage', 'images', 'config', 'unreadable',
    ]) {
      assert.ok(key in report, key);
    }
    assert.equal(report.unreadable, 0);
    assert.equal(sum(report), report.total);
    assert.equal((report.config as { inspect: { threshold: number } }).inspect.threshold, 4);
    assert.match(stderr, /taught/);
  });

  it('exits 2 with usage on bad arguments', async () => {
    const { code, stdout, stderr } = await run(['--images', images]);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /--labels is required/);
  });
});
