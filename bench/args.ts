import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Command-line number options shared by the bench tools: bounded, so no run is unbounded by accident.

/** The integer value of an option, or an error naming the option and its range. */
export function intOption(v: string | undefined, lo: number, hi: number, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`${what} must be an integer in ${lo}..${hi}`);
  return n;
}

/** Whether the module at `url` is the script node was started with (so a bench module can also be imported). */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  return script !== undefined && fileURLToPath(url) === path.resolve(script);
}
