/**
 * The report card panel's store: the last card the Worker measured (the current teacher against the latest
 * distillation's student), whether a measurement is in flight, and the engine's reason when it refused one (no
 * teacher, no distilled student, a run training). The UI reads this store only.
 */
import { create } from 'zustand';
import type { ReportCard } from '../worker/protocol';
import { getEngine, messageOf } from './engineClient';
import { reportError } from './stores';

export interface ReportCardState {
  readonly card: ReportCard | null;
  readonly measuring: boolean;
  /** Why the last measurement was refused or failed; null when it succeeded. */
  readonly error: string | null;
}

export const initialReportCardState = (): ReportCardState => ({ card: null, measuring: false, error: null });

export const useReportCardStore = create<ReportCardState>(() => initialReportCardState());

/** Measures the card in the Worker; a refusal stays beside the button, the previous card stays shown. */
export async function measureReportCard(): Promise<void> {
  if (useReportCardStore.getState().measuring) return;
  useReportCardStore.setState({ measuring: true, error: null });
  try {
    const card = await getEngine(reportError).reportCard();
    useReportCardStore.setState({ card, measuring: false });
  } catch (error) {
    useReportCardStore.setState({ measuring: false, error: messageOf(error) });
  }
}
