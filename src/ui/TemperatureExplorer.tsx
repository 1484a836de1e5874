/**
 * The temperature explorer panel: pick a test image, move T, and see the teacher's soft targets, a student's
 * beside them, the entropy, KD's soft term and what each class resembles. Everything comes from logits the
 * Worker computed once (explorerActions.ts); the panel asks for them when it first comes into view.
 */
import { memo, useEffect, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import './explorer.css';
import {
  choosePick,
  chooseStudent,
  reshufflePick,
  selectImage,
  setPresent,
  showRandomImage,
  useExplorerStore,
  wantExplorer,
} from '../store/explorerActions';
import { finalTestAccuracy } from '../store/distillState';
import { useDistillStore } from '../store/distillStores';
import { finishedRunIds, type PickMode } from '../store/explorerState';
import { useDatasetStore } from '../store/stores';
import { ClassSimilarity } from './ExplorerCharts';
import { ExplorerMain } from './ExplorerMain';
import { TestImage } from './ExplorerParts';
import { LectureMode } from './LectureMode';
import { useExplorerNumbers } from './useExplorerNumbers';

const pickValue = (pick: PickMode) => (pick.kind === 'class' ? `class-${pick.classIndex}` : pick.kind);
const pickOf = (value: string): PickMode =>
  value.startsWith('class-')
    ? { kind: 'class', classIndex: Number(value.slice('class-'.length)) }
    : value === 'confused'
      ? { kind: 'confused' }
      : { kind: 'all' };

/** Asks for the explorer's logits once the element has been on screen. */
function useWhenSeen(ref: React.RefObject<HTMLElement | null>) {
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof IntersectionObserver === 'undefined') {
      wantExplorer();
      return;
    }
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        wantExplorer();
        observer.disconnect();
      }
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
}

/** Requests full screen where the browser allows it (a user gesture); lecture mode works without it too. */
export function enterLectureMode() {
  setPresent(true);
  document.documentElement.requestFullscreen?.().catch(() => undefined);
}

/** Memoised, as is StudentChoice: a move of T re-renders the panel, and neither depends on T. */
const ImagePicker = memo(function ImagePicker({ classNames }: { classNames: readonly string[] }) {
  const pick = useExplorerStore((s) => s.pick);
  const candidates = useExplorerStore((s) => s.candidates);
  const images = useExplorerStore((s) => s.images);
  const selected = useExplorerStore((s) => s.selected);
  return (
    <div className="explorer-picker">
      <div className="explorer-picker-controls">
        <label>
          Images{' '}
          <select
            data-testid="explorer-pick"
            value={pickValue(pick)}
            onChange={(e) => choosePick(pickOf(e.target.value))}
          >
            <option value="all">all classes, shuffled</option>
            {classNames.map((name, i) => (
              <option key={name} value={`class-${i}`}>
                class: {name}
              </option>
            ))}
            <option value="confused">most confused by the teacher</option>
          </select>
        </label>
        <button type="button" onClick={reshufflePick} disabled={pick.kind === 'confused'}>
          Shuffle
        </button>
        <button type="button" data-testid="explorer-random" onClick={showRandomImage}>
          Random image
        </button>
      </div>
      <ul className="explorer-grid" data-testid="explorer-grid">
        {candidates.map((index) => {
          const image = images[index];
          return (
            <li key={index}>
              <button
                type="button"
                data-testid="explorer-image"
                data-index={index}
                aria-pressed={index === selected}
                onClick={() => selectImage(index)}
                title={image ? `${image.className} (test image ${index})` : `test image ${index}`}
              >
                {image ? <TestImage image={image} /> : <span className="thumb-placeholder" />}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
});

const StudentChoice = memo(function StudentChoice() {
  const source = useExplorerStore((s) => s.studentSource);
  const pinnedRun = useExplorerStore((s) => s.pinnedRun);
  const status = useExplorerStore((s) => s.studentStatus);
  const message = useExplorerStore((s) => s.studentMessage);
  const student = useExplorerStore((s) => s.student);
  const finished = useExplorerStore(useShallow(finishedRunIds));
  const finishedStudents = useExplorerStore((s) => s.finishedStudents);
  const runs = useDistillStore((s) => s.runs);
  const runLabel = (id: number) => {
    const run = runs.find((r) => r.id === id);
    const accuracy = run && finalTestAccuracy(run);
    return `run #${id} ${run?.method ?? ''}${accuracy === null || accuracy === undefined ? '' : `, ${(accuracy * 100).toFixed(1)}%`} (${finishedStudents[id]?.model ?? ''})`;
  };
  return (
    <p className="explorer-student" data-testid="explorer-student" data-status={status}>
      <label>
        Student beside it{' '}
        <select
          data-testid="explorer-student-source"
          value={pinnedRun === null ? source : `run:${pinnedRun}`}
          onChange={(e) => chooseStudent(e.target.value)}
        >
          <option value="distillation">the latest distillation's student, live</option>
          <option value="student">the Student panel's model</option>
          {finished.map((id) => (
            <option key={id} value={`run:${id}`}>
              {runLabel(id)}
            </option>
          ))}
        </select>
      </label>{' '}
      <span className="hint">
        {status === 'loading'
          ? 'computing its logits…'
          : student
            ? pinnedRun === null
              ? `${student.model}; follows the run, an epoch at a time`
              : student.model
            : (message ?? '')}
      </span>
    </p>
  );
});

const NO_CLASSES: readonly string[] = [];

export function TemperatureExplorer() {
  const ref = useRef<HTMLElement>(null);
  useWhenSeen(ref);
  const status = useExplorerStore((s) => s.teacherStatus);
  const message = useExplorerStore((s) => s.teacherMessage);
  const teacher = useExplorerStore((s) => s.teacher);
  const present = useExplorerStore((s) => s.present);
  const numbers = useExplorerNumbers();
  const temperature = useExplorerStore((s) => s.temperature);
  const classNames = useDatasetStore((s) => s.summary?.classNames) ?? NO_CLASSES;
  return (
    <section
      ref={ref}
      className="panel temperature-explorer"
      aria-labelledby="explorer-title"
      data-testid="temperature-explorer"
      data-status={status}
    >
      <div className="explorer-head">
        <h2 id="explorer-title">Temperature explorer</h2>
        <button type="button" data-testid="present-mode" onClick={enterLectureMode}>
          Lecture mode
        </button>
      </div>
      <p className="hint">
        The teacher's softmax at temperature T on one test image: softer as T rises, showing which other
        classes the teacher finds similar (the "dark knowledge" KD passes on). Computed once from the
        teacher's logits on the test split
        {teacher ? ` (${teacher.model}, ${teacher.count.toLocaleString('en-US')} images)` : ''}; moving T runs
        no model.
      </p>
      {status !== 'ready' && (
        <p className="loading" data-testid="explorer-status">
          {status === 'loading'
            ? "Computing the teacher's logits on the test split…"
            : (message ?? 'Waiting for the teacher…')}
        </p>
      )}
      {teacher && (
        <>
          <ImagePicker classNames={classNames} />
          <StudentChoice />
          {!present && <ExplorerMain numbers={numbers} />}
          {numbers && (
            <ClassSimilarity matrix={numbers.similarity} classNames={classNames} temperature={temperature} />
          )}
        </>
      )}
      {present && <LectureMode numbers={numbers} />}
    </section>
  );
}
