/**
 * The models of a visit the trust panel can score: the teacher, the Student panel's student, the latest
 * distillation's student, and copies of the visit's earlier distilled students (kept when a new distillation
 * replaced them), each with its run's own anchors for u(x) where its method has them. See docs/design.md §6.
 */
import type { AnchorSet } from '../distill/anchors';
import type { LabRun } from '../run/labRun';
import type { TeacherInfo } from '../sessionTypes';
import { type CurrentTeacher, positionText, teacherVersion } from '../teacher/currentTeacher';
import type { OodModel } from './oodLab';
import { copyOfModel, oodModelKey } from './oodModels';

export class VisitModels {
  private readonly kept: OodModel[] = [];
  private readonly anchorsOf = new WeakMap<LabRun, readonly number[] | null>();

  /** Reads a run's anchors while its method is alive (AKD's; null for a method without), and returns them. */
  async noteAnchors(run: LabRun): Promise<AnchorSet | null> {
    const anchors = (await run.anchorMasks())?.anchors ?? null;
    this.anchorsOf.set(run, anchors?.indices ?? null);
    return anchors;
  }

  /** A run's anchors when they index the active training split (a dataset switch leaves them behind). */
  ownAnchorsOf(run: LabRun, trainCount: number): readonly number[] | null {
    const indices = this.anchorsOf.get(run) ?? null;
    return indices && indices.every((i) => i < trainCount) ? indices : null;
  }

  /** A copy of a replaced distillation's student (untrained ones skipped). */
  keep(run: LabRun, trainCount: number): void {
    const position = run.position();
    if (position.completedEpochs === 0 && position.stepInEpoch === 0) return;
    const { method, train } = run.settings;
    const model = copyOfModel(run.model, train.model);
    const n = this.kept.length + 1;
    this.kept.push({
      key: oodModelKey(model, 'kept'),
      label: `Student: ${method}, ${train.model} (distillation ${n} of this visit, ${positionText(position)})`,
      role: 'student',
      model,
      ownAnchors: this.ownAnchorsOf(run, trainCount),
    });
  }

  /** Every model to offer now, teacher first, the latest distillation last. */
  list(now: {
    teacher: { current: CurrentTeacher; info: TeacherInfo } | null;
    student: LabRun | null;
    distill: LabRun | null;
    trainCount: number;
  }): OodModel[] {
    const models: OodModel[] = [];
    if (now.teacher) {
      const { current, info } = now.teacher;
      const version = teacherVersion(current);
      models.push({
        key: oodModelKey(current.model, version),
        label: `Teacher: ${info.preset} (${info.source}${current.kind === 'run' ? `, ${version}` : ''})`,
        role: 'teacher',
        lane: current.kind === 'run' ? 'teacher' : undefined,
        model: current.model,
        ownAnchors: null,
      });
    }
    if (now.student) {
      const version = positionText(now.student.position());
      models.push({
        key: oodModelKey(now.student.model, version),
        label: `Student: ${now.student.config.model} (Student panel, ${version})`,
        role: 'student',
        lane: 'student',
        model: now.student.model,
        ownAnchors: null,
      });
    }
    models.push(...this.kept);
    const { distill } = now;
    if (distill) {
      const version = positionText(distill.position());
      models.push({
        key: oodModelKey(distill.model, version),
        label: `Student: ${distill.settings.method}, ${distill.settings.train.model} (latest distillation, ${version})`,
        role: 'student',
        lane: 'distill',
        model: distill.model,
        ownAnchors: this.ownAnchorsOf(distill, now.trainCount),
      });
    }
    return models;
  }
}
