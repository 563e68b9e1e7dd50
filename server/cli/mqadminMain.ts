// Entry point of bin/mqadmin.
import { runAdmin } from './mqadmin.js';

runAdmin(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  env: process.env,
  now: Date.now,
}).then((code) => {
  process.exitCode = code;
});
