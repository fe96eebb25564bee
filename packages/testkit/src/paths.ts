import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { TestkitError, TestkitErrorCode } from './errors.js';

/**
 * The repository root: the nearest directory above the working directory (or `STREAMSVC_REPO_ROOT`)
 * that holds `pnpm-workspace.yaml`. Tests run from a package directory or the root, both inside it.
 */
export function repoRoot(): string {
  const fromEnv = process.env['STREAMSVC_REPO_ROOT'];
  if (fromEnv) return fromEnv;
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`[testkit] no pnpm-workspace.yaml above ${process.cwd()}`);
  }
}

/** `<repo>/.cache/testkit/<sub>`: where built helpers (the Kafka mock binary) are kept between runs. */
export async function cacheDir(sub: string): Promise<string> {
  const dir = path.join(repoRoot(), '.cache', 'testkit', sub);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Absolute path of `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Like {@link which}, but a missing program is a BINARY_NOT_FOUND error carrying `installHint`. */
export function requireBinary(name: string, installHint: string): string {
  const found = which(name);
  if (found) return found;
  throw new TestkitError(
    TestkitErrorCode.BINARY_NOT_FOUND,
    `${name} not found on PATH. ${installHint} (npm test installs it for you).`,
  );
}

/** A temporary directory removed (recursively) on dispose. */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
  remove(): Promise<void>;
}

/** Creates a fresh directory under the OS temp dir: `await using dir = await tempDir('wal-')`. */
export async function tempDir(prefix = 'streamsvc-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  return { path: dir, remove, [Symbol.asyncDispose]: remove };
}

/** Synchronous variant for `process.on('exit')` paths and jest globals. */
export function tempDirSync(prefix = 'streamsvc-'): { path: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
