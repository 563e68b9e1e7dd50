// Damage the log will not repair by itself: bytes that fail their checks while valid entries
// follow them (so it is not a torn tail), or a read that finds an entry changed on disk. The
// operator gets the file and byte offset to look at.

export class LogCorruptionError extends Error {
  /** absolute path of the damaged file */
  readonly file: string;
  /** byte offset inside that file where the bad entry starts */
  readonly offset: number;

  constructor(file: string, offset: number, reason: string, options?: { cause?: unknown }) {
    super(`log corruption in ${file} at byte ${offset}: ${reason}`, options);
    this.name = 'LogCorruptionError';
    this.file = file;
    this.offset = offset;
  }
}
