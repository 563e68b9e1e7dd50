// What every long-running launcher (mqnamesrv, mqbroker) does around its service: run main,
// turn its result or failure into the exit code, and wait for SIGTERM/SIGINT to stop cleanly.

/** Resolves on the first SIGTERM or SIGINT. */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}

/** Runs `main`; its number is the exit code, a failure prints `<name>: <stack>` and exits 1. */
export function runMain(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${name}: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
