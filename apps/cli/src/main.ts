#!/usr/bin/env node
import { processIo } from './output.js';
import { runCli } from './program.js';

// `streamsvc <command>`: Ctrl-C ends a following consumer cleanly (the server command handles its own signals).
const controller = new AbortController();
if (process.argv[2] !== 'start') process.once('SIGINT', () => controller.abort(new Error('interrupted')));
runCli(process.argv.slice(2), { io: processIo, stdin: process.stdin, signal: controller.signal }).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`streamsvc: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
