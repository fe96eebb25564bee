import { createRequire } from 'node:module';
import path from 'node:path';

import { ManagedProcess } from './managed-process.js';
import { repoRoot } from './paths.js';

export interface SpawnTsChildOptions {
  /** Name for errors and the log file. Default: the script's file name. */
  readonly name?: string;
  readonly args?: readonly string[];
  /** Node options before the script, e.g. a server app's V8 heap options. */
  readonly nodeArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Where the child's output goes. */
  readonly logFile: string;
  /** Keep stdin open as a pipe. */
  readonly stdinPipe?: boolean;
}

/**
 * Runs a TypeScript file as a separate Node process (through tsx), with workspace packages resolved
 * to their sources via the `@streamsvc/source` export condition, so no build is needed. Used by crash
 * tests that `kill -9` a writer: the child prints what it did on stdout (read with `onLine`).
 */
export async function spawnTsChild(script: string, options: SpawnTsChildOptions): Promise<ManagedProcess> {
  const require = createRequire(path.join(repoRoot(), 'packages', 'testkit', 'package.json'));
  const tsx = require.resolve('tsx');
  return ManagedProcess.spawn({
    name: options.name ?? path.basename(script),
    command: process.execPath,
    args: [
      ...(options.nodeArgs ?? []),
      '--conditions=@streamsvc/source',
      '--import',
      tsx,
      script,
      ...(options.args ?? []),
    ],
    env: { ...process.env, ...options.env },
    logFile: options.logFile,
    stdinPipe: options.stdinPipe ?? false,
  });
}
