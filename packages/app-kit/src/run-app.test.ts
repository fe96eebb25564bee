import { ManualClock, deferred } from '@streamsvc/common';
import type { Deferred } from '@streamsvc/common';

import { ConfigError } from './config-error.js';
import { ExitCode, runApp } from './run-app.js';
import type { AppControl, AppLoad, AppProcess, RunAppOptions, ShutdownSignal } from './run-app.js';

/** A process that records what it is told and raises signals on demand. */
class FakeProcess implements AppProcess {
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly exits: number[] = [];
  execArgv: readonly string[] = [];
  readonly listeners = new Set<(signal: ShutdownSignal) => void>();
  readonly stdout = { write: (text: string) => this.out.push(text) };
  readonly stderr = { write: (text: string) => this.err.push(text) };

  onSignal(listener: (signal: ShutdownSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  exit(code: number): void {
    this.exits.push(code);
  }

  signal(signal: ShutdownSignal): void {
    for (const listener of [...this.listeners]) listener(signal);
  }
}

/** An app whose close the test controls. */
class FakeApp {
  closes = 0;
  readonly closing: Deferred<void> = deferred();
  close(): Promise<void> {
    this.closes++;
    return this.closing.promise;
  }
}

interface Config {
  readonly name: string;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function harness(overrides: Partial<RunAppOptions<Config>> = {}, execArgv: readonly string[] = []) {
  const proc = new FakeProcess();
  proc.execArgv = execArgv;
  const clock = new ManualClock();
  const app = new FakeApp();
  let control: AppControl | undefined;
  const run = runApp<Config>({
    name: 'svc',
    argv: ['--x'],
    env: { A: '1' },
    load: () => ({ config: { name: 'c' } }),
    start: async (_config, c) => {
      control = c;
      return app;
    },
    shutdownTimeoutMs: 1000,
    process: proc,
    clock,
    ...overrides,
  });
  return { proc, clock, app, run, control: () => control! };
}

describe('runApp', () => {
  it('names the Node options the app should run with when the process was started without them', async () => {
    const without = harness({ nodeOptions: ['--initial-old-space-size=128'] }, ['--enable-source-maps']);
    await flush();
    expect(without.proc.err).toEqual([
      'svc: started without the Node options --initial-old-space-size=128; large messages will cost more CPU in GC (see docs/operations.md, "Node options")\n',
    ]);
    const given = harness({ nodeOptions: ['--initial-old-space-size=128'] }, ['--initial-old-space-size=256']);
    await flush();
    expect(given.proc.err).toEqual([]);
    for (const h of [without, given]) {
      h.proc.signal('SIGTERM');
      h.app.closing.resolve();
      expect(await h.run).toBe(ExitCode.OK);
    }
  });

  it('exits 2 with the message of a ConfigError, or of any error the loader throws, without starting', async () => {
    const start = jest.fn();
    const bad = harness({
      load: () => {
        throw ConfigError.of([{ path: 'pchannels', message: 'too big', source: { kind: 'flag', name: '--p' } }]);
      },
      start,
    });
    expect(await bad.run).toBe(ExitCode.BAD_CONFIG);
    expect(bad.proc.err).toEqual(['[config] invalid configuration:\n  pchannels: too big (flag --p)\n']);
    const odd = harness({
      load: () => {
        throw new TypeError('boom');
      },
      start,
    });
    expect(await odd.run).toBe(2);
    expect(odd.proc.err).toEqual(['TypeError: boom\n']);
    expect(start).not.toHaveBeenCalled();
  });

  it('prints the help text on stdout and exits 0 without starting', async () => {
    const start = jest.fn();
    const { run, proc } = harness({ load: (): AppLoad<Config> => ({ help: 'usage: svc' }), start });
    expect(await run).toBe(ExitCode.OK);
    expect(proc.out).toEqual(['usage: svc\n']);
    expect(start).not.toHaveBeenCalled();
  });

  it('hands argv and env to the loader', async () => {
    const load = jest.fn(() => ({ help: '' }));
    await harness({ load }).run;
    expect(load).toHaveBeenCalledWith(['--x'], { A: '1' });
  });

  it('exits 1 when the app cannot start', async () => {
    const { run, proc } = harness({ start: () => Promise.reject(new Error('port in use')) });
    expect(await run).toBe(ExitCode.FAILURE);
    expect(proc.err).toEqual(['svc: cannot start: port in use\n']);
    expect(proc.listeners.size).toBe(0);
  });

  it('closes gracefully on SIGTERM and exits 0, then stops listening for signals', async () => {
    const { run, proc, app } = harness();
    await flush();
    proc.signal('SIGTERM');
    expect(proc.err).toEqual(['svc: SIGTERM received, shutting down\n']);
    await flush();
    expect(app.closes).toBe(1);
    app.closing.resolve();
    expect(await run).toBe(0);
    expect(proc.exits).toEqual([]);
    expect(proc.listeners.size).toBe(0);
  });

  it('exits 130 at once on a second signal while closing', async () => {
    const { run, proc, app } = harness();
    await flush();
    proc.signal('SIGINT');
    proc.signal('SIGINT');
    expect(proc.exits).toEqual([ExitCode.INTERRUPTED]);
    await flush();
    expect(app.closes).toBe(1);
    app.closing.resolve();
    await run;
  });

  it('forces exit 1 when closing overruns the shutdown timeout plus 2 s, and not before', async () => {
    const { run, proc, clock, app } = harness({ shutdownTimeoutMs: (config) => (config.name === 'c' ? 500 : 0) });
    await flush();
    proc.signal('SIGINT');
    await flush();
    clock.advance(2499);
    await flush();
    expect(proc.exits).toEqual([]);
    clock.advance(1);
    await flush();
    expect(proc.exits).toEqual([ExitCode.FAILURE]);
    expect(proc.err.at(-1)).toBe('svc: shutdown did not finish within 2500 ms, exiting\n');
    app.closing.resolve();
    await run;
  });

  it('cancels the forced exit once closed', async () => {
    const { run, proc, clock, app } = harness();
    await flush();
    proc.signal('SIGINT');
    app.closing.resolve();
    expect(await run).toBe(0);
    expect(clock.pendingSleeps).toBe(0);
    clock.advance(10_000);
    await flush();
    expect(proc.exits).toEqual([]);
  });

  it('exits 1 when closing fails', async () => {
    const { run, proc, app } = harness();
    await flush();
    proc.signal('SIGINT');
    app.closing.reject(new Error('disk full'));
    expect(await run).toBe(ExitCode.FAILURE);
    expect(proc.err.at(-1)).toBe('svc: shutdown failed: disk full\n');
  });

  it('lets the app end itself with its own code, gracefully', async () => {
    const { run, proc, app, control } = harness();
    await flush();
    control().exit(3, 'session expired');
    control().exit(4); // already stopping: ignored
    expect(proc.err).toEqual(['svc: session expired, shutting down\n']);
    await flush();
    expect(app.closes).toBe(1);
    proc.signal('SIGTERM'); // a signal during that shutdown forces, as a second signal would
    expect(proc.exits).toEqual([130]);
    app.closing.resolve();
    expect(await run).toBe(3);
  });

  it('closes an app that asked to exit while it was still starting, as soon as it started', async () => {
    const app = new FakeApp();
    const proc = new FakeProcess();
    const run = runApp<Config>({
      name: 'svc',
      argv: [],
      env: {},
      load: () => ({ config: { name: 'c' } }),
      start: async (_config, control) => {
        control.exit(5);
        return app;
      },
      shutdownTimeoutMs: 0,
      process: proc,
      clock: new ManualClock(),
    });
    await flush();
    expect(app.closes).toBe(1);
    expect(proc.err).toEqual(['svc: exit 5 requested, shutting down\n']);
    app.closing.resolve();
    expect(await run).toBe(5);
  });
});
