/**
 * One progress line per job. On a terminal the lines are redrawn in place (a block of N lines); into a file or
 * a pipe (nohup, CI) a job's line is printed again only when its phase changes or every `everyMs`, so a log
 * stays readable.
 */
export interface ProgressSink {
  /** The job's current line; `phase` changes (starting, training, ood, done) are always printed. */
  update(id: string, text: string, phase: string): void;
}

interface Entry {
  text: string;
  phase: string;
  printedAt: number;
}

export class ProgressBoard implements ProgressSink {
  private readonly entries = new Map<string, Entry>();
  private drawn = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 15_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private get live(): boolean {
    return this.stream.isTTY === true;
  }

  update(id: string, text: string, phase: string): void {
    const entry = this.entries.get(id);
    if (this.live) {
      this.entries.set(id, { text, phase, printedAt: this.now() });
      this.redraw();
      return;
    }
    const due = !entry || entry.phase !== phase || this.now() - entry.printedAt >= this.everyMs;
    if (due) this.stream.write(`${text}\n`);
    this.entries.set(id, { text, phase, printedAt: due ? this.now() : entry.printedAt });
  }

  /** A line of its own above the board (a message, not a job). */
  note(text: string): void {
    if (this.live) {
      this.clear();
      this.stream.write(`${text}\n`);
      this.redraw();
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  private clear(): void {
    if (this.drawn) this.stream.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }

  private redraw(): void {
    this.clear();
    const width = this.stream.columns || 120;
    const lines = [...this.entries.values()].map((e) => e.text.slice(0, width - 1));
    if (lines.length) this.stream.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
