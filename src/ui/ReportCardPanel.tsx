/**
 * The report card: what the latest distilled student costs and keeps against the current teacher (parameters,
 * FLOPs, saved bytes, measured latency, accuracy, and the ratios), measured in the Worker on the active backend
 * (src/engine/report/reportCard.ts says how). Reads the report card store only.
 */
import { measureReportCard, useReportCardStore } from '../store/reportCardStore';
import type { ReportCard } from '../worker/protocol';
import { formatPercent, formatSi } from './format';

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const times = (value: number) => `${value.toFixed(1)}x`;
const bytes = (value: number) => `${formatSi(value)}B`;

type Row = readonly [label: string, id: string, teacher: string, student: string, ratio: string];

function rowsOf(card: ReportCard): Row[] {
  const { teacher: t, student: s } = card;
  return [
    ['Parameters', 'parameters', formatSi(t.parameters), formatSi(s.parameters), times(card.parameterRatio)],
    [
      'FLOPs per image',
      'flops',
      formatSi(t.flopsPerImage),
      formatSi(s.flopsPerImage),
      times(card.flopsRatio),
    ],
    [
      'Saved weights (compression)',
      'compression',
      bytes(t.weightBytes),
      bytes(s.weightBytes),
      times(card.compression),
    ],
    [
      'Latency per image, batch 1 (speed-up)',
      'latency-batch1',
      ms(t.latencyMsPerImage.batch1),
      ms(s.latencyMsPerImage.batch1),
      times(card.speedup.batch1),
    ],
    [
      'Latency per image, batch 64 (speed-up)',
      'latency-batch64',
      ms(t.latencyMsPerImage.batch64),
      ms(s.latencyMsPerImage.batch64),
      times(card.speedup.batch64),
    ],
    [
      'Test accuracy (retention: student / teacher)',
      'retention',
      formatPercent(t.testAccuracy),
      formatPercent(s.testAccuracy),
      formatPercent(card.retention),
    ],
  ];
}

function CardTable({ card }: { card: ReportCard }) {
  return (
    <>
      <div className="runs-table-wrap">
        <table className="runs-table" data-testid="report-card">
          <thead>
            <tr>
              <th scope="col"></th>
              <th scope="col" data-testid="report-teacher-name">
                Teacher: {card.teacher.name}
              </th>
              <th scope="col" data-testid="report-student-name">
                Student: {card.student.name}
              </th>
              <th scope="col">Teacher / student</th>
            </tr>
          </thead>
          <tbody>
            {rowsOf(card).map(([label, id, teacher, student, ratio]) => (
              <tr key={id} data-testid={`report-row-${id}`}>
                <th scope="row">{label}</th>
                <td data-testid={`report-${id}-teacher`}>{teacher}</td>
                <td data-testid={`report-${id}-student`}>{student}</td>
                <td data-testid={`report-${id}-ratio`}>{ratio}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint" data-testid="report-conventions">
        FLOPs: {card.flopsConvention}. Latency: {card.backend}, the median of {card.latency.repeats} timed
        runs after {card.latency.warmup} untimed ones, from images in to logits read back, per image. Accuracy
        on {card.testImages.toLocaleString('en-US')} test images; retention is the student&apos;s over the
        teacher&apos;s (student / teacher).
      </p>
    </>
  );
}

export function ReportCardPanel() {
  const { card, measuring, error } = useReportCardStore();
  return (
    <section className="panel report-panel" data-testid="report-panel" aria-labelledby="report-title">
      <h2 id="report-title">Report card</h2>
      <p className="hint">
        The current teacher against the latest distilled student: size, arithmetic (1 multiply-add = 2 FLOPs),
        measured inference time on this backend, and how much accuracy the student keeps.
      </p>
      <div className="run-controls">
        <button
          type="button"
          onClick={() => void measureReportCard()}
          disabled={measuring}
          data-testid="report-measure"
        >
          {measuring ? 'Measuring…' : card ? 'Measure again' : 'Measure'}
        </button>
      </div>
      {error && (
        <p className="config-error" role="alert" data-testid="report-error">
          {error}
        </p>
      )}
      {card && <CardTable card={card} />}
    </section>
  );
}
