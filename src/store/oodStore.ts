/**
 * The trust panel's store and actions (docs/design.md, "Out-of-distribution and calibration"): the models and
 * OoD sets the Worker offers, the user's choices, a run with progress and Cancel, uploads (a refused file is
 * shown with its reason; the sets already loaded stay), and the last result. The UI reads this store only.
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import type {
  OodListener,
  OodModelInfo,
  OodProgress,
  OodResult,
  OodScore,
  OodSetInfo,
} from '../worker/protocol';
import { getEngine, messageOf } from './engineClient';
import { recordOodResult } from './history/historyStore';
import { keepChosen } from './oodView';
import { reportError } from './stores';

export interface OodState {
  readonly models: readonly OodModelInfo[];
  readonly sets: readonly OodSetInfo[];
  readonly chosenModels: readonly string[];
  readonly chosenSets: readonly string[];
  readonly running: boolean;
  readonly progress: OodProgress | null;
  readonly result: OodResult | null;
  /** The last refused upload, with the file and the reason. */
  readonly uploadError: string | null;
  readonly uploading: boolean;
  /** What the histogram and the ROC curves show. */
  readonly shownModel: string | null;
  readonly shownSet: string | null;
  readonly shownScore: OodScore;
}

export const initialOodState = (): OodState => ({
  models: [],
  sets: [],
  chosenModels: [],
  chosenSets: ['mnist'],
  running: false,
  progress: null,
  result: null,
  uploadError: null,
  uploading: false,
  shownModel: null,
  shownSet: null,
  shownScore: 'anchorU',
});

export const useOodStore = create<OodState>(() => initialOodState());

const engine = () => getEngine(reportError);
const set = (patch: Partial<OodState>) => useOodStore.setState(patch);

const toggle = (list: readonly string[], id: string) =>
  list.includes(id) ? list.filter((x) => x !== id) : [...list, id];

export const toggleOodModel = (key: string) =>
  set({ chosenModels: toggle(useOodStore.getState().chosenModels, key) });
export const toggleOodSet = (id: string) =>
  set({ chosenSets: toggle(useOodStore.getState().chosenSets, id) });
export const showOod = (patch: Partial<Pick<OodState, 'shownModel' | 'shownSet' | 'shownScore'>>) =>
  set(patch);

/** Asks the Worker which models and sets there are now; choices that went away are dropped. */
export async function refreshOodChoices(): Promise<void> {
  try {
    const [models, sets] = await Promise.all([engine().oodModels(), engine().oodSets()]);
    const state = useOodStore.getState();
    const teacher = models.filter((m) => m.role === 'teacher').map((m) => m.key);
    set({
      models,
      sets,
      chosenModels: keepChosen(
        state.chosenModels,
        models.map((m) => m.key),
        teacher,
      ),
      chosenSets: keepChosen(
        state.chosenSets,
        sets.map((s) => s.id),
        ['mnist'],
      ),
    });
  } catch (error) {
    reportError(messageOf(error));
  }
}

/** Scores the chosen models against the chosen sets in the Worker, with progress; Cancel ends it. */
export async function runOod(): Promise<void> {
  const { chosenModels, chosenSets, running } = useOodStore.getState();
  if (running) return;
  set({ running: true, progress: null });
  const listener: OodListener = Comlink.proxy({ progress: (progress: OodProgress) => set({ progress }) });
  try {
    const result = await engine().runOod({ models: [...chosenModels], sets: [...chosenSets] }, listener);
    if (result) {
      void recordOodResult(result);
      const { shownModel, shownSet } = useOodStore.getState();
      set({
        result,
        shownModel: result.models.some((m) => m.key === shownModel)
          ? shownModel
          : (result.models[0]?.key ?? null),
        shownSet: result.sets.some((s) => s.id === shownSet) ? shownSet : (result.sets[0]?.id ?? null),
      });
    }
  } catch (error) {
    reportError(messageOf(error));
  } finally {
    set({ running: false, progress: null });
  }
}

export async function cancelOod(): Promise<void> {
  await engine().cancelOod();
}

/** Adds an uploaded OoD set (chosen at once); a refused file leaves the loaded sets and the result as they are. */
export async function uploadOodFiles(files: File[]): Promise<void> {
  if (!files.length) return;
  set({ uploading: true, uploadError: null });
  try {
    const added = await engine().addOodSet(files);
    const sets = await engine().oodSets();
    set({ sets, chosenSets: [...useOodStore.getState().chosenSets, added.id] });
  } catch (error) {
    set({ uploadError: messageOf(error) });
  } finally {
    set({ uploading: false });
  }
}
