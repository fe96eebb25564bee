#!/usr/bin/env -S node --initial-old-space-size=96
import { processIo } from './output.js';
import { runCli } from './program.js';

// `streamsvc <command>`: Ctrl-C ends a following consumer cleanly (the server command handles its own signals).
const controller = new AbortController();
if (process.argv[2] !== 'start') process.once('SIGINT', () => controller.abort(new Error('interrupted')));
// The reader of our output went away (`streamsvc consume ... | head`): stop like `cat` does, quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  controller.abort(new Error('stdout closed'));
  process.exit(0);
});
runCli(process.argv.slice(2), { io: processIo, stdin: process.stdin, signal: controller.signal }).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`streamsvc: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
