import assert from 'node:assert/strict';
import { WalError, WalErrorCode, WalRegistry } from '@streamsvc/wal-core';
import { describeError } from '../../support/describe-error.js';
import { expectWalError } from '../../support/expect-rejection.js';
import type { ScenarioRuntime } from '../suite-context.js';
import type { WalBackend } from '@streamsvc/wal-core';

// `WalRegistry.of` takes `WalBackend<never>[]`, but zod's ZodType is covariant in its output, so a
// WalBackend<C> is invariant in C and no concrete backend is assignable to WalBackend<never> (reported
// to the wal-core owner). The cast is sound: the registry only hands the config it parsed with the
// backend's own schema back to that backend.
function entry(backend: WalBackend<unknown>): WalBackend<never> {
  return backend as WalBackend<never>;
}

function expectThrows(what: string, call: () => unknown, code: WalErrorCode): WalError {
  try {
    call();
  } catch (e) {
    if (WalError.is(e, code)) return e;
    assert.fail(`${what}: threw ${describeError(e)}, but expected WalError ${code}`);
  }
  assert.fail(`${what}: did not throw, but expected WalError ${code}`);
}

/** `registry-duplicate-name`: two backends under one name is a wiring bug caught at construction. */
export async function registryDuplicateName(ctx: ScenarioRuntime<unknown>): Promise<void> {
  const { backend } = ctx;
  expectThrows(
    'WalRegistry.of([backend, backend])',
    () => WalRegistry.of([entry(backend), entry(backend)]),
    WalErrorCode.BACKEND_DUPLICATE,
  );
  const lookalike = { ...backend };
  expectThrows(
    'WalRegistry.of([backend, a copy with its name])',
    () => WalRegistry.of([entry(backend), entry(lookalike)]),
    WalErrorCode.BACKEND_DUPLICATE,
  );
}

/** `registry-unknown-name`: an unknown name fails with the known names listed, so a typo is obvious. */
export async function registryUnknownName(ctx: ScenarioRuntime<unknown>): Promise<void> {
  const { backend } = ctx;
  const registry = WalRegistry.of([entry(backend)]);
  assert.deepEqual(registry.names, [backend.name], 'the registry lists other names than its one backend');
  assert.equal(registry.get(backend.name), backend, 'registry.get(name) returned another backend');
  const deps = await ctx.deps();
  const e = expectThrows(
    'registry.get("no-such-wal")',
    () => registry.get('no-such-wal'),
    WalErrorCode.BACKEND_UNKNOWN,
  );
  assert.ok(e.message.includes(`"${backend.name}"`), `BACKEND_UNKNOWN does not list "${backend.name}": ${e.message}`);
  await expectWalError(
    'registry.createOpener("no-such-wal")',
    () => registry.createOpener('no-such-wal', {}, deps),
    WalErrorCode.BACKEND_UNKNOWN,
    ctx.waitTimeoutMs,
  );
}

/**
 * `registry-invalid-config`: the registry validates configuration with the backend's schema; a bad
 * value fails with INVALID_CONFIG naming `wal.<name>.<path>`, and a valid configuration opens.
 */
export async function registryInvalidConfig(ctx: ScenarioRuntime<unknown>): Promise<void> {
  const { backend } = ctx;
  const registry = WalRegistry.of([entry(backend)]);
  const deps = await ctx.deps();
  const { config: bad, path } = ctx.invalidConfig;
  const e = await expectWalError(
    `registry.createOpener("${backend.name}", ${JSON.stringify(bad)})`,
    () => registry.createOpener(backend.name, bad, deps),
    WalErrorCode.INVALID_CONFIG,
    ctx.waitTimeoutMs,
  );
  const expected = path === '' ? `wal.${backend.name}.` : `wal.${backend.name}.${path}`;
  assert.ok(e.message.includes(expected), `INVALID_CONFIG does not name "${expected}": ${e.message}`);
  const opener = await ctx.within(
    registry.createOpener(backend.name, await ctx.config(), deps),
    `registry.createOpener("${backend.name}") with a valid configuration`,
  );
  await ctx.within(opener.close(), 'close of the opener the registry created');
}
