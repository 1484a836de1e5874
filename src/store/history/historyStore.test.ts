import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { applyRunEnd, applyRewind } from '../runProgress';
import { useDistillStore } from '../distillStores';
import { useNoticeStore } from '../stores';
import { useTrainingStore } from '../trainingStores';
import { HistoryDb } from './historyDb';
import {
  deleteRuns,
  loadHistory,
  recordDistillRuns,
  recordTrainingRun,
  renameRun,
  useHistoryStore,
} from './historyStore';
import { distillRun, studentTraining } from './testRuns';

/** What IndexedDB holds, read through a connection of its own (as the next visit would). */
const stored = async () => (await new HistoryDb().list()).runs;

// One scenario, in order: the store keeps a module-wide connection and per-run ids, as a visit does.
describe('the history store, as the panels end runs', () => {
  it('keeps an ended run once, replaces it when the same run ends again, keeping its name', async () => {
    await loadHistory();
    expect(useHistoryStore.getState().status).toBe('ready');
    // A paused distillation is no end: nothing kept.
    const paused = distillRun({ kind: 'paused' });
    useDistillStore.setState({ runs: [paused] });
    await recordDistillRuns();
    expect(useHistoryStore.getState().runs).toHaveLength(0);

    // Stopped: kept; called again without a change, not written twice.
    const stopped = applyRunEnd(paused, { kind: 'stopped' });
    useDistillStore.setState({ runs: [stopped] });
    await recordDistillRuns();
    await recordDistillRuns();
    const [kept] = useHistoryStore.getState().runs;
    expect(kept).toMatchObject({ method: 'kd', outcome: 'stopped' });
    expect(await stored()).toEqual([kept]);

    await renameRun(kept!.id, '  my KD  ');
    // The same run (same settings object) ending again: the record is replaced, the name stays.
    useDistillStore.setState({ runs: [{ ...stopped, status: 'done' }] });
    await recordDistillRuns();
    expect(await stored()).toMatchObject([{ id: kept!.id, name: 'my KD', outcome: 'done' }]);
    expect(useHistoryStore.getState().runs).toEqual(await stored());
  });

  it('a Student panel run is kept beside it; a reload reads both back', async () => {
    useTrainingStore.setState({ student: studentTraining({ kind: 'done' }) });
    await recordTrainingRun('student');
    const runs = await stored();
    expect(runs.map((r) => [r.panel, r.method])).toEqual([
      ['distillation', 'kd'],
      ['student', 'ce'],
    ]);
    useHistoryStore.setState({ runs: [], status: 'loading' });
    await loadHistory();
    expect(useHistoryStore.getState().runs).toEqual(runs);
  });

  it('a run restored from an earlier visit’s checkpoint carries on its record instead of adding a twin', async () => {
    const [distilled] = await stored();
    // As after a reload: a new run object (new settings object) with the restored curves, then done.
    const original = useDistillStore.getState().runs[0]!;
    const restored = applyRewind(
      { ...original, config: { ...original.config }, msPerStep: null, status: 'done' as const },
      { steps: [...original.steps], epochs: [...original.epochs], position: original.position! },
    );
    useDistillStore.setState({ runs: [restored] });
    await recordDistillRuns();
    const after = await stored();
    expect(after).toHaveLength(2);
    expect(after[0]).toMatchObject({ id: distilled!.id, name: 'my KD', msPerStep: original.msPerStep });
  });

  it('deletes', async () => {
    const [first] = await stored();
    await deleteRuns([first!.id]);
    expect((await stored()).map((r) => r.panel)).toEqual(['student']);
    expect(useHistoryStore.getState().runs.map((r) => r.panel)).toEqual(['student']);
    expect(useNoticeStore.getState().errors).toEqual([]);
  });
});
