import type { Clock, Logger } from '@streamsvc/common';
import { MessageBuilder, MessageError, StreamingError } from '@streamsvc/message';
import type { ImmutableMessage } from '@streamsvc/message';

import type { BackendWal } from '../spi/backend.js';
import { checkpointOf, replayForRecovery } from './recovery-replay.js';
import type { RecoveredState } from './recovery-replay.js';
import type { RecoveryCheckpoint } from './recovery-checkpoint.js';
import { walConfigSchema } from './wal-config.js';
import type { ResolvedWalConfig, WalConfig } from './wal-config.js';
import type { OpenWalOptions, WalTso } from './wal.js';

// The steps of `Wal.open` before the WAL exists: config, the term's first tick, recovery.

/** @throws {StreamingError} INVALID_ARGUMENT naming every problem. */
export function parseConfig(config: WalConfig | undefined): ResolvedWalConfig {
  const parsed = walConfigSchema.safeParse(config ?? {});
  if (!parsed.success) {
    throw new StreamingError(
      'INVALID_ARGUMENT',
      `invalid WAL config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/**
 * Rebuilds the state of the log before `first` (the new term's first tick): from the last checkpoint
 * when there is a usable one, else from the log's start; then saves it as the next checkpoint in the
 * background (a failed save only costs the next open a longer replay).
 */
export async function recover(
  backend: BackendWal,
  first: ImmutableMessage,
  options: OpenWalOptions,
  defaultTxnKeepaliveMs: number,
  log: Logger,
): Promise<
  RecoveredState & {
    readonly fromCheckpoint: boolean;
    /** The checkpoint this open saves (in the background) at the term's first tick. */
    readonly checkpoint: { readonly checkpoint: RecoveryCheckpoint; readonly saved: Promise<void> } | undefined;
  }
> {
  const replay = (checkpoint: RecoveryCheckpoint | undefined): Promise<RecoveredState> =>
    replayForRecovery({
      backend,
      checkpoint,
      until: first.id,
      untilTt: first.timeTick,
      defaultTxnKeepaliveMs,
      signal: options.signal,
    });
  const store = options.checkpoints;
  let checkpoint: RecoveryCheckpoint | undefined;
  try {
    checkpoint = await store?.load(options.pchannel, { signal: options.signal });
    if (checkpoint && checkpoint.position.compare(first.id) >= 0) {
      log.warn({ position: checkpoint.position.toString() }, 'recovery checkpoint is past the first tick; ignored');
      checkpoint = undefined;
    }
  } catch (e) {
    options.signal?.throwIfAborted();
    log.warn({ err: e }, 'recovery checkpoint unreadable; replaying the whole log');
    checkpoint = undefined;
  }
  let recovered: RecoveredState;
  try {
    recovered = await replay(checkpoint);
  } catch (e) {
    if (!checkpoint) throw e;
    options.signal?.throwIfAborted();
    log.warn({ err: e }, 'replay from the recovery checkpoint failed; replaying the whole log');
    checkpoint = undefined;
    recovered = await replay(undefined);
  }
  let next: { readonly checkpoint: RecoveryCheckpoint; readonly saved: Promise<void> } | undefined;
  if (store) {
    const c = checkpointOf(recovered, options.term, first.id);
    const saved = store
      .save(options.pchannel, c)
      .catch((e: unknown) => log.warn({ err: e }, 'recovery checkpoint not saved'));
    next = { checkpoint: c, saved };
  }
  return { ...recovered, fromCheckpoint: checkpoint !== undefined, checkpoint: next };
}

export async function writeFirstTick(
  backend: BackendWal,
  tso: WalTso,
  term: bigint,
  config: ResolvedWalConfig,
  clock: Clock,
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<ImmutableMessage> {
  let tt = tso.tryAllocate();
  while (tt === undefined) {
    await tso.refill({ signal });
    tt = tso.tryAllocate();
  }
  const tick = MessageBuilder.timeTick().build().withTimeTick(tt).withWalTerm(term).withLastConfirmedSelf();
  for (let delay = 20; ; delay = Math.min(delay * 2, config.appendRetryMaxMs)) {
    try {
      return tick.intoImmutable(await backend.append(tick, { signal }));
    } catch (e) {
      const retriable = (e as { retriable?: unknown }).retriable === true && !signal?.aborted;
      if (!retriable || MessageError.is(e)) throw e;
      log.warn({ err: e, delayMs: delay }, 'first time tick not written; retrying');
      await clock.sleep(delay, { signal });
    }
  }
}
