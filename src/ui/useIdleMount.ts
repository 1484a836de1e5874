/**
 * Mounting a recharts chart is one long main-thread task (tens of ms). The lab's live charts mount while the
 * page is idle, one per idle period, once the lab is ready, instead of all at once with the page (a task of
 * ~300 ms that delayed the first paint), while the page starts (delaying the Worker's messages that enable
 * Start) or at a run's first step or epoch (a long task while training; docs/design.md §5).
 */
import { useEffect, useState } from 'react';

const waiting: (() => void)[] = [];
let scheduled = false;

const whenIdle = (run: () => void): void => {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(run);
  else setTimeout(run, 50);
};

/** Mounts the next waiting chart; the next one waits for the next idle period, after that mount's render. */
function mountNext(): void {
  waiting.shift()?.();
  scheduled = waiting.length > 0;
  if (scheduled) whenIdle(mountNext);
}

/** False until `after` and then an idle moment of the page for this component (then true for good). */
export function useIdleMount(after: boolean): boolean {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (!after || ready) return;
    const mount = () => setReady(true);
    waiting.push(mount);
    if (!scheduled) {
      scheduled = true;
      whenIdle(mountNext);
    }
    return () => {
      const at = waiting.indexOf(mount);
      if (at >= 0) waiting.splice(at, 1);
    };
  }, [after, ready]);
  return ready;
}
