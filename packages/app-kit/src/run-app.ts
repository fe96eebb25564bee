import { deferred, systemClock } from '@streamsvc/common';
import type { Clock } from '@streamsvc/common';

import { ConfigError } from './config-error.js';
import type { ConfigEnv } from './config-loader.js';
import { missingNodeOptions } from './node-options.js';

/** The exit codes of every streamsvc server. */
export const ExitCode = {
  /** Stopped cleanly after a signal, or `--help`. */
  OK: 0,
  /** Could not start, shutdown failed, or shutdown overran its deadline. */
  FAILURE: 1,
  /** The configuration was rejected (nothing was started). */
  BAD_CONFIG: 2,
  /** A second SIGINT/SIGTERM while shutting down (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The signals that stop a server gracefully. */
export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/** The parts of `process` that {@link runApp} uses; tests pass a fake instead of signalling themselves. */
export interface AppProcess {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Calls `listener` on SIGINT and SIGTERM until the returned function is called. */
  onSignal(listener: (signal: ShutdownSignal) => void): () => void;
  /** Ends the process at once; used only for a second signal and for a shutdown past its deadline. */
  exit(code: number): void;
  /** The Node options the process was started with (`process.execArgv`). Default: none. */
  readonly execArgv?: readonly string[];
}

/** The real process. */
export function nodeProcess(): AppProcess {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    onSignal(listener) {
      const onSignal = (signal: NodeJS.Signals): void => listener(signal as ShutdownSignal);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      return () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      };
    },
    exit: (code) => process.exit(code),
    execArgv: process.execArgv,
  };
}

/** What `load` returns: a configuration to start with, or a help text to print (then exit 0). */
export type AppLoad<C> = { readonly config: C } | { readonly help: string };

/** A started app: all {@link runApp} needs is a way to stop it. */
export interface RunningApp {
  /** Graceful stop. Rejecting makes the exit code 1. */
  close(): Promise<void>;
}

/** Given to `start`, for an app that must end itself (a node whose session expired, a lost election). */
export interface AppControl {
  /**
   * Stops the app gracefully, as a signal would, and makes {@link runApp} resolve with `code` once it
   * is closed. `reason` is printed (`<name>: <reason>, shutting down`). Ignored when already stopping;
   * may be called while `start` is still running (the app is closed as soon as it is started).
   */
  exit(code: number, reason?: string): void;
}

/** What {@link runApp} runs. */
export interface RunAppOptions<C> {
  /** Prefix of the lines written to stderr (`streamsvc: cannot start: ...`). */
  readonly name: string;
  /** Command-line arguments after the program name. */
  readonly argv: readonly string[];
  /** The environment (`process.env`); only the app reads it, and hands it over here. */
  readonly env: ConfigEnv;
  /** Parses the configuration. Throwing (a {@link ConfigError}, typically) exits 2 with its message. */
  readonly load: (argv: readonly string[], env: ConfigEnv) => AppLoad<C>;
  /** Builds and starts the app (its `compose`). Rejecting exits 1. */
  readonly start: (config: C, control: AppControl) => Promise<RunningApp>;
  /** How long `close()` may take; the process is forced out with 1 after this plus 2 s. */
  readonly shutdownTimeoutMs: number | ((config: C) => number);
  /** Default: the real process. */
  readonly process?: AppProcess;
  /** Times the forced exit. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Node options the app should run with (e.g. `SERVER_NODE_OPTIONS`); starting without one of them
   * prints a line naming it. V8 reads them only at startup, so the app cannot set them itself.
   */
  readonly nodeOptions?: readonly string[];
}

/** Headroom over the app's own shutdown timeout before the process is forced out. */
const FORCE_EXIT_GRACE_MS = 2000;

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The process around a server: load the configuration (an error → its message on stderr, exit 2;
 * help → stdout, exit 0), start the app (failure → `<name>: cannot start: ...`, exit 1), then wait.
 * SIGINT/SIGTERM or `control.exit(code)` close it gracefully and resolve with 0 (or `code`); a
 * second signal exits 130 at once; a close that rejects resolves 1; a close that overruns
 * `shutdownTimeoutMs` + 2 s exits 1 at once. Signals are handled only once `start` resolved.
 *
 * Resolves with the exit code rather than exiting, so a CLI can embed a server; the caller ends the
 * process with it.
 */
export async function runApp<C>(options: RunAppOptions<C>): Promise<number> {
  const proc = options.process ?? nodeProcess();
  const clock = options.clock ?? systemClock;
  const { name } = options;

  let loaded: AppLoad<C>;
  try {
    loaded = options.load(options.argv, options.env);
  } catch (e) {
    proc.stderr.write(`${ConfigError.is(e) ? e.message : String(e)}\n`);
    return ExitCode.BAD_CONFIG;
  }
  if ('help' in loaded) {
    proc.stdout.write(`${loaded.help}\n`);
    return ExitCode.OK;
  }
  const { config } = loaded;
  const missing = missingNodeOptions(options.nodeOptions ?? [], proc.execArgv ?? []);
  if (missing.length > 0) {
    proc.stderr.write(
      `${name}: started without the Node options ${missing.join(' ')}; large messages will cost more CPU in GC (see docs/operations.md, "Node options")\n`,
    );
  }

  const stopRequested = deferred<number>();
  let stopping = false;
  const requestStop = (code: number, why: string): boolean => {
    if (stopping) return false;
    stopping = true;
    proc.stderr.write(`${name}: ${why}, shutting down\n`);
    stopRequested.resolve(code);
    return true;
  };
  const control: AppControl = {
    exit: (code, reason) => {
      requestStop(code, reason ?? `exit ${code} requested`);
    },
  };

  let app: RunningApp;
  try {
    app = await options.start(config, control);
  } catch (e) {
    proc.stderr.write(`${name}: cannot start: ${errorMessage(e)}\n`);
    return ExitCode.FAILURE;
  }

  const unsubscribe = proc.onSignal((signal) => {
    if (!requestStop(ExitCode.OK, `${signal} received`)) proc.exit(ExitCode.INTERRUPTED);
  });
  try {
    const code = await stopRequested.promise;
    const timeoutMs =
      typeof options.shutdownTimeoutMs === 'function' ? options.shutdownTimeoutMs(config) : options.shutdownTimeoutMs;
    const deadlineMs = timeoutMs + FORCE_EXIT_GRACE_MS;
    const closed = new AbortController();
    clock.sleep(deadlineMs, { signal: closed.signal }).then(
      () => {
        proc.stderr.write(`${name}: shutdown did not finish within ${deadlineMs} ms, exiting\n`);
        proc.exit(ExitCode.FAILURE);
      },
      () => {}, // closed in time
    );
    try {
      await app.close();
    } catch (e) {
      proc.stderr.write(`${name}: shutdown failed: ${errorMessage(e)}\n`);
      return ExitCode.FAILURE;
    } finally {
      closed.abort();
    }
    return code;
  } finally {
    unsubscribe();
  }
}
