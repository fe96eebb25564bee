import { MessageBuilder, counterMessageIdCodec } from '@streamsvc/message';
import type { MutableMessage } from '@streamsvc/message';
import type { AppendContext, AppendResult } from '@streamsvc/wal-core';
import { settlesWithin } from '../support/within.js';
import { AppendGate } from './append-gate.js';
import { data } from './messages.js';

const ids = counterMessageIdCodec('test');
const v = 'unit-dml_0_1v0';

function context(message: MutableMessage): AppendContext {
  return { message: message.withTimeTick(1n).withLastConfirmedSelf(), signal: undefined };
}

describe('AppendGate', () => {
  it('holds matching appends before the write until released, and lets others through', async () => {
    const gate = new AppendGate();
    const written: string[] = [];
    const next = async (ctx: AppendContext): Promise<AppendResult> => {
      written.push(ctx.message.userProperties.get('id')!);
      const stored = ctx.message.intoImmutable(ids.of(0n));
      return {
        id: stored.id,
        timeTick: 1n,
        lastConfirmed: stored.lastConfirmed,
        txnContext: undefined,
        message: stored,
      };
    };
    gate.hold((m) => m.userProperties.get('id') === 'held');
    const held = gate.append(context(data(v, 'held')), next);
    await gate.whenHeld(1);
    await gate.append(context(data(v, 'free')), next);
    expect(written).toEqual(['free']);
    expect(await settlesWithin(held, 20)).toBeUndefined();
    gate.release();
    await held;
    expect(written).toEqual(['free', 'held']);
    expect(gate.held).toBe(0);
  });

  it('holds a matching append after the write when asked to, so its result waits', async () => {
    const gate = new AppendGate();
    let writes = 0;
    const next = async (ctx: AppendContext): Promise<AppendResult> => {
      writes++;
      const stored = ctx.message.intoImmutable(ids.of(1n));
      return {
        id: stored.id,
        timeTick: 1n,
        lastConfirmed: stored.lastConfirmed,
        txnContext: undefined,
        message: stored,
      };
    };
    gate.hold((m) => m.type === MessageBuilder.timeTick().type, 'after-write');
    const tick = gate.append(context(MessageBuilder.timeTick().build()), next);
    await gate.whenHeld(1);
    expect(writes).toBe(1);
    gate.release();
    await expect(tick).resolves.toMatchObject({ timeTick: 1n });
  });
});
