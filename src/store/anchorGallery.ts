/**
 * The anchor gallery's store and actions: a preview of the current teacher's anchors (with progress), the live
 * masks of a distillation whose method learns anchor masks (read from the Worker at most once a second), the
 * chosen anchor's neighbours, and the display settings. The UI reads this store only.
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import type { AnchorGalleryView, AnchorNeighbours, AnchorPreviewListener } from '../worker/protocol';
import { getEngine, messageOf } from './engineClient';
import { reportError } from './stores';

export const ANCHORS_PER_CLASS = [1, 2, 5] as const;
export type AnchorsPerClass = (typeof ANCHORS_PER_CLASS)[number];

/** Live masks are read at most this often (the issue: at most once a second). */
export const LIVE_INTERVAL_MS = 1000;

export interface AnchorGalleryState {
  readonly perClass: AnchorsPerClass;
  readonly previewing: boolean;
  /** Training images the teacher has read during a preview. */
  readonly progress: { readonly done: number; readonly total: number } | null;
  readonly view: AnchorGalleryView | null;
  /** How many live reads the view has had (the gallery's redraw counter). */
  readonly version: number;
  /** Heatmap opacity over the image, 0..1. */
  readonly opacity: number;
  /** Index into view.history to replay an epoch's masks; null: the latest masks. */
  readonly epochShown: number | null;
  readonly selected: number | null;
  readonly neighbours: AnchorNeighbours | null;
  readonly neighboursLoading: boolean;
}

export const initialAnchorGalleryState = (): AnchorGalleryState => ({
  perClass: 1,
  previewing: false,
  progress: null,
  view: null,
  version: 0,
  opacity: 0.6,
  epochShown: null,
  selected: null,
  neighbours: null,
  neighboursLoading: false,
});

export const useAnchorGalleryStore = create<AnchorGalleryState>(() => initialAnchorGalleryState());

const engine = () => getEngine(reportError);
const set = (patch: Partial<AnchorGalleryState>) => useAnchorGalleryStore.setState(patch);

export const setAnchorsPerClass = (perClass: AnchorsPerClass) => set({ perClass });
export const setMaskOpacity = (opacity: number) => set({ opacity: Math.min(1, Math.max(0, opacity)) });
export const showEpoch = (epochShown: number | null) => set({ epochShown });

/** Picks the current teacher's anchors by AKD's rule, before any training. */
export async function previewAnchors(): Promise<void> {
  const { perClass, previewing } = useAnchorGalleryStore.getState();
  if (previewing) return;
  set({ previewing: true, progress: null, selected: null, neighbours: null });
  const listener: AnchorPreviewListener = Comlink.proxy({
    progress: (done: number, total: number) => set({ progress: { done, total } }),
  });
  try {
    const view = await engine().previewAnchors(perClass, listener);
    set({ view, epochShown: null, version: useAnchorGalleryStore.getState().version + 1 });
  } catch (error) {
    reportError(messageOf(error));
  } finally {
    set({ previewing: false });
  }
}

/** Reads the latest distillation's masks once; keeps the current view when its method has none. */
export async function refreshRunAnchors(): Promise<void> {
  try {
    const view = await engine().runAnchors();
    if (!view) return;
    const state = useAnchorGalleryStore.getState();
    if (state.view?.source === 'run' && state.view.label === view.label) return;
    const sameAnchors =
      state.view !== null &&
      state.view.anchors.map((a) => a.index).join() === view.anchors.map((a) => a.index).join();
    set({
      view,
      version: state.version + 1,
      ...(sameAnchors ? {} : { selected: null, neighbours: null }),
    });
  } catch (error) {
    reportError(messageOf(error));
  }
}

/** Shows an anchor's nearest training images and the least central of its class; again: hides them. */
export async function selectAnchor(record: number): Promise<void> {
  if (useAnchorGalleryStore.getState().selected === record) {
    set({ selected: null, neighbours: null });
    return;
  }
  set({ selected: record, neighbours: null, neighboursLoading: true });
  try {
    const neighbours = await engine().anchorNeighbours(record);
    if (useAnchorGalleryStore.getState().selected === record) set({ neighbours });
  } catch (error) {
    reportError(messageOf(error));
    set({ selected: null });
  } finally {
    set({ neighboursLoading: false });
  }
}
