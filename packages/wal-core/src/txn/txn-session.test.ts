import { StreamingError } from '@streamsvc/message';
import { composeTs } from '@streamsvc/tso';

import { TxnManager } from './txn-manager.js';
import { TxnSession } from './txn-session.js';

const at = (ms: number): bigint => composeTs(1_700_000_000_000 + ms, 0);
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return StreamingError.is(e) ? e.code : 'not a StreamingError';
  }
  return undefined;
};

describe('TxnSession', () => {
  it('expires once a keepalive of TSO time passes without an append, for good', () => {
    const s = new TxnSession(at(0), 'v', at(0), 100);
    s.beginBody(at(50));
    s.endBody(at(50), true);
    expect(s.isExpiredAt(at(149))).toBe(false);
    expect(code(() => s.beginBody(at(150)))).toBe('TRANSACTION_EXPIRED');
    expect(code(() => s.beginBody(at(60)))).toBe('TRANSACTION_EXPIRED');
  });

  it('makes a commit wait for body appends still in flight', async () => {
    const s = new TxnSession(at(0), 'v', at(0), 1000);
    s.beginBody(at(1));
    let committed = false;
    const commit = s.requestCommit(at(2)).then(() => (committed = true));
    await Promise.resolve();
    expect(committed).toBe(false);
    expect(code(() => s.beginBody(at(3)))).toBe('INVALID_TRANSACTION_STATE');
    s.endBody(at(1), true);
    await commit;
    s.commitDone(true);
    expect(s.state).toBe('committed');
  });

  it('counts as done once committed only at and after its commit tick', async () => {
    const s = new TxnSession(at(0), 'v', at(0), 1000);
    await s.requestCommit(at(5));
    s.commitDone(true);
    expect(s.isDoneAt(at(4))).toBe(false); // a reader resuming below the commit needs the BeginTxn
    expect(s.isDoneAt(at(5))).toBe(true);
  });

  it('refuses everything after it was failed by a DDL, naming why', () => {
    const s = new TxnSession(at(0), 'v', at(0), 1000);
    s.fail('DropPartition was applied');
    expect(code(() => s.requestRollback(at(1)))).toBe('INVALID_TRANSACTION_STATE');
  });
});

describe('TxnManager', () => {
  it('answers TRANSACTION_EXPIRED for a txn cleaned up because it expired, INVALID_TRANSACTION_STATE for an unknown one', () => {
    const txns = new TxnManager(1000);
    const s = txns.begin(at(0), 'v', 50);
    txns.cleanupUntil(at(10));
    expect(txns.get(s.txnId)).toBe(s);
    txns.cleanupUntil(at(60));
    expect(code(() => txns.get(s.txnId))).toBe('TRANSACTION_EXPIRED');
    expect(code(() => txns.get(12345n))).toBe('INVALID_TRANSACTION_STATE');
  });

  it('uses the default keepalive when BeginTxn asks for 0 and fails only the txns of a vchannel', () => {
    const txns = new TxnManager(777);
    const a = txns.begin(at(0), 'a', 0);
    const b = txns.begin(at(1), 'b', 0);
    expect(a.keepaliveMs).toBe(777);
    txns.failVChannel('a', 'DDL');
    expect(a.state).toBe('failed');
    expect(b.state).toBe('inFlight');
  });
});
