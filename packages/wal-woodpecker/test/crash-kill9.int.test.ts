import { randomInt } from 'node:crypto';

import { noopLogger, systemClock } from '@streamsvc/common';
import type { ImmutableMessage, MessageId } from '@streamsvc/message';
import { EmbeddedMetaKv } from '@streamsvc/metastore';
import { spawnTsChild, tempDir } from '@streamsvc/testkit';
import type { TempDir } from '@streamsvc/testkit';
import type { DeliverPolicy, ReadOnlyBackendWal } from '@streamsvc/wal-core';

import { woodpeckerWal } from '../src/index.js';
import { CRASH_PCHANNEL, crashMessage, payloadOf } from './support/crash-log.js';

const TRIALS = 30;
const LOOPS = 4;
// Small segments, so that kills also land in the middle of segment rolls.
const SEGMENT_MAX_BYTES = 256 * 1024;
const FIXTURE = `${__dirname}/fixtures/crash-writer.ts`;

/** Reads the log from `policy` up to and including the record with key `until`. */
async function readUntil(wal: ReadOnlyBackendWal, policy: DeliverPolicy, until: string): Promise<ImmutableMessage[]> {
  const scanner = await wal.read({ policy });
  const out: ImmutableMessage[] = [];
  try {
    const deadline = Date.now() + 30_000;
    for await (const m of scanner) {
      out.push(m);
      if (m.userProperties.get('key') === until) return out;
      if (Date.now() > deadline) throw new Error(`read did not reach ${until} within 30 s`);
    }
    throw new Error('the scanner ended');
  } finally {
    await scanner.close();
  }
}

describe('woodpecker local mode under kill -9', () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await tempDir('wp-crash-');
  });

  afterAll(async () => {
    await dir.remove();
  });

  it(`loses no acknowledged entry, delivers none twice and none corrupt, over ${TRIALS} kills at random moments`, async () => {
    const acked = new Map<string, string>();
    const seen = new Map<string, string>();
    let term = 1n;
    let after: MessageId | undefined;
    let killedBeforeReady = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const child = await spawnTsChild(FIXTURE, {
        args: [dir.path, String(term), String(LOOPS), String(SEGMENT_MAX_BYTES)],
        logFile: `${dir.path}/child-${trial}.log`,
      });
      let ready = false;
      child.onLine((line) => {
        if (line === 'ready') ready = true;
        const [kind, key, id] = line.split(' ');
        if (kind === 'ack') acked.set(key!, id!);
      });
      // Most kills hit a writer in full swing; some hit it while it starts and recovers.
      if (trial % 4 === 3) await new Promise((r) => setTimeout(r, randomInt(0, 600)));
      else {
        await child.nextLine((l) => l === 'ready', 30_000);
        await new Promise((r) => setTimeout(r, randomInt(5, 150)));
      }
      child.signal('SIGKILL');
      await child.exited;
      if (!ready) killedBeforeReady++;

      // Restart: recover under the next term (the child is dead, so the embedded MetaKv is free).
      const verifyTerm = term + 1n;
      term += 2n;
      const metaKv = await EmbeddedMetaKv.open({ path: `${dir.path}/meta` });
      const opener = await woodpeckerWal.createOpener(
        woodpeckerWal.configSchema.parse({
          mode: 'local',
          rootDir: `${dir.path}/wal`,
          segmentMaxBytes: SEGMENT_MAX_BYTES,
        }),
        { logger: noopLogger, clock: systemClock, metaKv },
      );
      try {
        const wal = await opener.open({ pchannel: CRASH_PCHANNEL, term: verifyTerm, mode: 'rw' });
        const marker = `marker/${trial}`;
        const markerId = await wal.append(crashMessage(marker, verifyTerm << 40n));
        const read = await readUntil(
          wal,
          after === undefined ? { kind: 'all' } : { kind: 'startAfter', id: after },
          marker,
        );
        let previous = after;
        for (const m of read) {
          const key = m.userProperties.get('key')!;
          if (previous !== undefined && previous.compare(m.id) !== -1) {
            throw new Error(`trial ${trial}: ${m.id.toString()} (${key}) delivered after ${previous.toString()}`);
          }
          previous = m.id;
          if (seen.has(key))
            throw new Error(`trial ${trial}: ${key} delivered twice (${seen.get(key)}, ${m.id.toString()})`);
          seen.set(key, m.id.toString());
          expect(Buffer.from(m.payload).equals(Buffer.from(payloadOf(key)))).toBe(true);
        }
        after = markerId;
        for (const [key, id] of acked) {
          if (seen.get(key) !== id)
            throw new Error(`trial ${trial}: acknowledged ${key} at ${id} but read ${seen.get(key) ?? 'nothing'}`);
        }
        await wal.close();
      } finally {
        await opener.close();
        await metaKv.close();
      }
    }
    // One last full read: every entry of every trial, in order, each once.
    const metaKv = await EmbeddedMetaKv.open({ path: `${dir.path}/meta` });
    const opener = await woodpeckerWal.createOpener(
      woodpeckerWal.configSchema.parse({ mode: 'local', rootDir: `${dir.path}/wal` }),
      { logger: noopLogger, clock: systemClock, metaKv },
    );
    try {
      const wal = await opener.open({ pchannel: CRASH_PCHANNEL, term, mode: 'ro' });
      const all = await readUntil(wal, { kind: 'all' }, `marker/${TRIALS - 1}`);
      expect(all.map((m) => m.userProperties.get('key'))).toEqual([...seen.keys()]);
    } finally {
      await opener.close();
      await metaKv.close();
    }
    process.stdout.write(
      `crash test: ${TRIALS} kills (${killedBeforeReady} before the writer was ready), ${acked.size} acknowledged appends, ${seen.size} entries read\n`,
    );
    expect(acked.size).toBeGreaterThan(TRIALS * 10);
  }, 240_000);
});
