import { exportModel } from '../store/trainingActions';
import { useTeacherStore, useTrainingStore } from '../store/trainingStores';
import { isActive } from '../store/trainingState';
import type { ModelRole } from '../worker/protocol';
import { ResumeOffer } from './ResumeOffer';
import { RunControls } from './RunControls';
import { RunProgress } from './RunProgress';
import { TeacherSource } from './TeacherSource';
import { AccuracyChart, LossChart } from './TrainingCharts';
import { TrainFormView } from './TrainFormView';

const PANELS: Record<ModelRole, { title: string; purpose: string }> = {
  teacher: {
    title: 'Teacher',
    purpose:
      'The large network the student learns from. Use the shipped one, import one, or train a new one.',
  },
  student: {
    title: 'Student',
    purpose:
      'The small network. Trained here on labels alone, it is the baseline that distillation must beat.',
  },
};

/** Downloads the role's current model in the tfjs format (model.json + weights.bin). */
function ModelExport({ role }: { role: ModelRole }) {
  const status = useTrainingStore((s) => s[role].status);
  const hasTeacher = useTeacherStore((s) => s.info !== null);
  // The engine holds a model once a run exists (and, for the teacher, once one is loaded); mid-step export
  // would read weights that are changing, so a running run must pause first.
  const hasModel = status !== 'idle' || (role === 'teacher' && hasTeacher);
  return (
    <button
      type="button"
      data-testid="model-export"
      disabled={!hasModel || isActive(status)}
      title={isActive(status) ? 'Pause training to download the model' : undefined}
      onClick={() => void exportModel(role)}
    >
      Download the {role} (model.json + weights.bin)
    </button>
  );
}

export function TrainingPanel({ role }: { role: ModelRole }) {
  const { title, purpose } = PANELS[role];
  return (
    <section className="panel training-panel" data-testid={`panel-${role}`} aria-labelledby={`${role}-title`}>
      <h2 id={`${role}-title`}>{title}</h2>
      <p className="hint">{purpose}</p>
      <ResumeOffer lane={role} />
      {role === 'teacher' && <TeacherSource />}
      <div className="training-body">
        <TrainFormView role={role} />
        <div className="training-run">
          <RunControls role={role} />
          <RunProgress role={role} />
          <div className="charts">
            <LossChart role={role} />
            <AccuracyChart role={role} />
          </div>
          <ModelExport role={role} />
        </div>
      </div>
    </section>
  );
}
