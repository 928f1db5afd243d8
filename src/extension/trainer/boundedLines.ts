/**
 * Splits a child process's output into lines for the log, holding at most `maxLine` characters
 * of an unfinished line: a trainer (or a library in it) that prints without newlines must not
 * make the editor buffer without limit. A longer line is logged cut, with a note.
 */
export class BoundedLines {
  private buffered = '';
  /** The current line was cut: drop its rest up to the next newline. */
  private skipping = false;

  constructor(
    private readonly emit: (line: string) => void,
    readonly maxLine = 64 * 1024,
  ) {}

  push(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      this.take(chunk.slice(start, nl));
      this.finishLine();
      start = nl + 1;
    }
    this.take(chunk.slice(start));
  }

  /** Characters held of the unfinished line (never more than maxLine). */
  get pending(): number {
    return this.buffered.length;
  }

  /** The stream ended: log what is left. */
  end(): void {
    this.finishLine();
  }

  private take(part: string): void {
    if (this.skipping || part === '') return;
    const room = this.maxLine - this.buffered.length;
    if (part.length <= room) {
      this.buffered += part;
      return;
    }
    this.buffered += part.slice(0, room);
    this.emitLine(`${this.buffered} ... (line cut at ${this.maxLine} characters)`);
    this.buffered = '';
    this.skipping = true;
  }

  private finishLine(): void {
    if (!this.skipping) this.emitLine(this.buffered);
    this.buffered = '';
    this.skipping = false;
  }

  private emitLine(line: string): void {
    const clean = line.replace(/\r$/, '');
    if (clean.trim()) this.emit(clean);
  }
}
