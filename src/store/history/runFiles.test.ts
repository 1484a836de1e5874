import { describe, expect, it } from 'vitest';
import { fromTraining } from './fromRuns';
import { CSV_HEADER, csvField, parseRunsFile, runsCsv, runsJson } from './runFiles';
import { RUN_FORMAT } from './runRecord';
import { historyRun, studentTraining, testContext } from './testRuns';

/** RFC 4180 read back (quoted fields, doubled quotes, CRLF), to check what runsCsv wrote field by field. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('CSV export', () => {
  it('a header and one row per run, each field where the header says', () => {
    const kd = { ...historyRun('a'), name: 'KD, "hot" run' };
    const student = fromTraining(studentTraining({ kind: 'stopped' }), testContext('b'))!;
    const text = runsCsv([kd, student]);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = readCsv(text);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual(CSV_HEADER);
    const row = (i: number) => Object.fromEntries(CSV_HEADER.map((name, c) => [name, rows[i]![c]]));
    expect(rows.every((r) => r.length === CSV_HEADER.length)).toBe(true);
    expect(row(1)).toMatchObject({
      name: 'KD, "hot" run',
      method: 'kd',
      params: 'temperature=4; alpha=0.9',
      student: 'cnn-small',
      seed: String(kd.config.seed),
      labelled_fraction: '0.5',
      teacher: 'vgg-fast (shipped: teacher/model.json)',
      test_top1: String(kd.epochs[1]!.testAccuracy),
      ms_per_step: '128',
      outcome: 'done',
      backend: 'wasm',
      ece: '',
      id: 'a',
    });
    expect(row(2)).toMatchObject({
      method: 'ce',
      panel: 'student',
      teacher: '',
      ms_per_step: '96',
      outcome: 'stopped',
    });
  });

  it('quotes what needs quoting, and defuses a text cell a spreadsheet would run as a formula', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField(-0.5)).toBe('-0.5');
    expect(csvField(null)).toBe('');
    expect(csvField(true)).toBe('true');
  });
});

describe('JSON export and import', () => {
  it('what Export JSON writes, import reads back unchanged', () => {
    const runs = [historyRun('a'), fromTraining(studentTraining({ kind: 'done' }), testContext('b'))!];
    expect(parseRunsFile(runsJson(runs))).toEqual({ runs });
    // A single run's JSON too.
    expect(parseRunsFile(JSON.stringify(runs[0]))).toEqual({ runs: [runs[0]] });
  });

  it('refuses a malformed file whole, naming the problem', () => {
    const good = historyRun('a');
    expect(parseRunsFile('{"format": "distillery-run",').error).toMatch(/^it is not JSON \(/);
    expect(parseRunsFile('[1, 2]').error).toBe(
      `it is not a Distillery run: "format" must be "${RUN_FORMAT}" or "distillery-runs", and the file has none`,
    );
    expect(parseRunsFile('{"format": "mlflow"}').error).toContain('not "mlflow"');
    const oneBad = JSON.parse(runsJson([good, { ...good, id: 'b' }])) as { runs: Record<string, unknown>[] };
    oneBad.runs[1]!.labelledFraction = 0;
    expect(parseRunsFile(JSON.stringify(oneBad)).error).toBe(
      'runs[1].labelledFraction: Too small: expected number to be >0',
    );
    expect(parseRunsFile(JSON.stringify({ format: 'distillery-runs', version: 1, runs: [] })).error).toBe(
      'runs: the file holds no runs',
    );
  });
});
