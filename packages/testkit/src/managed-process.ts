import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';

import { TestkitError, TestkitErrorCode } from './errors.js';

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ManagedProcessOptions {
  /** Name used in errors, e.g. `etcd`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Every line of stdout and stderr is appended here. */
  readonly logFile: string;
  /** Keep stdin open as a pipe (for programs controlled over stdin); otherwise stdin is /dev/null. */
  readonly stdinPipe?: boolean;
}

const TAIL_LINES = 60;
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

/** Kills every process still running when this (test) process exits, so nothing outlives a test run. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.signal('SIGKILL');
  });
}

/**
 * A child process in its own process group, with its output in a log file and the last lines in
 * memory. `stop()` sends SIGTERM to the group, waits, then SIGKILL. Processes still alive when the
 * parent exits are killed.
 */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  readonly #child: ChildProcess;
  readonly #log: WriteStream;
  readonly #tail: string[] = [];
  readonly #lineListeners = new Set<(line: string) => void>();
  #exit: ProcessExit | undefined;
  #partial = '';

  private constructor(options: ManagedProcessOptions, child: ChildProcess, log: WriteStream) {
    this.name = options.name;
    this.logFile = options.logFile;
    this.#child = child;
    this.#log = log;
    if (child.pid === undefined) throw new Error('unreachable: spawn succeeded without a pid');
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        live.delete(this);
        resolve(this.#exit);
      });
    });
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      const text = this.#partial + chunk.toString('utf8');
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) this.#pushLine(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  }

  /**
   * Spawns the process. A missing executable rejects with BINARY_NOT_FOUND; everything else about
   * startup is the caller's readiness probe (see {@link ManagedProcess.waitReady}).
   */
  static async spawn(options: ManagedProcessOptions): Promise<ManagedProcess> {
    installExitHook();
    const log = createWriteStream(options.logFile, { flags: 'a' });
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true, // own process group: stop() reaches grandchildren (pyenv shims, shells)
      stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e: NodeJS.ErrnoException) => {
        log.end();
        reject(
          e.code === 'ENOENT'
            ? new TestkitError(
                TestkitErrorCode.BINARY_NOT_FOUND,
                `${options.name}: cannot execute ${options.command}`,
                { cause: e },
              )
            : e,
        );
      });
    });
    const managed = new ManagedProcess(options, child, log);
    live.add(managed);
    return managed;
  }

  /** The last lines the process printed (stdout and stderr interleaved). */
  tail(): string {
    return [...this.#tail, this.#partial].filter(Boolean).join('\n');
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /** Writes a line to the process's stdin (only with `stdinPipe`). */
  writeLine(line: string): void {
    if (!this.#child.stdin) throw new Error(`[testkit] ${this.name} has no stdin pipe`);
    this.#child.stdin.write(line + '\n');
  }

  /** Calls `listener` with every later output line; returns a function that unsubscribes it. */
  onLine(listener: (line: string) => void): () => void {
    this.#lineListeners.add(listener);
    return () => this.#lineListeners.delete(listener);
  }

  /** Resolves with the next output line that satisfies `match`, or rejects after `timeoutMs`. */
  nextLine(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#lineListeners.delete(listener);
        reject(new Error(`[testkit] ${this.name}: no matching output within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (line: string): void => {
        if (!match(line)) return;
        clearTimeout(timer);
        this.#lineListeners.delete(listener);
        resolve(line);
      };
      this.#lineListeners.add(listener);
    });
  }

  /**
   * Polls `probe` every `intervalMs` until it returns true. Rejects with START_FAILED (and the log
   * tail) if the process exits first, or kills it and rejects with START_TIMEOUT after `timeoutMs`.
   */
  async waitReady(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exit) throw this.#startFailed();
      if (await probe().catch(() => false)) return;
      if (this.#exit) throw this.#startFailed();
      if (Date.now() > deadline) {
        await this.stop();
        throw new TestkitError(
          TestkitErrorCode.START_TIMEOUT,
          `${this.name} (pid ${this.pid}) was not ready after ${timeoutMs} ms; log ${this.logFile}:\n${this.tail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Sends a signal to the whole process group (e.g. SIGKILL for a crash test, SIGSTOP to freeze it). */
  signal(signal: NodeJS.Signals): void {
    if (this.#exit) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        process.kill(this.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /**
   * SIGTERM to the group, SIGKILL after `graceMs`; resolves when the process has exited. A stopped
   * (SIGSTOP) process is continued first so it can act on SIGTERM. Idempotent.
   */
  async stop(graceMs = 10_000): Promise<ProcessExit> {
    if (!this.#exit) {
      this.signal('SIGTERM');
      this.signal('SIGCONT');
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.#log.end(resolve));
    return this.exited;
  }

  #pushLine(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    for (const listener of [...this.#lineListeners]) listener(line);
  }

  #startFailed(): TestkitError {
    const how = this.#exit?.signal ? `signal ${this.#exit.signal}` : `code ${this.#exit?.code}`;
    return new TestkitError(
      TestkitErrorCode.START_FAILED,
      `${this.name} (pid ${this.pid}) exited with ${how} before it was ready; log ${this.logFile}:\n${this.tail()}`,
    );
  }
}
