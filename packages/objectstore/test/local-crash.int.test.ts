import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { spawnTsChild, tempDir } from '@streamsvc/testkit';

import { LocalObjectStore, RESERVED_SEGMENT_PREFIX } from '../src/index.js';
import { claimedSeq, crashContent } from './fixtures/crash-content.js';

const TRIALS = 12;
const writer = path.join(__dirname, 'fixtures', 'crash-writer.ts');

async function tempFilesOnDisk(root: string): Promise<number> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.startsWith(RESERVED_SEGMENT_PREFIX)).length;
}

describe('LocalObjectStore under kill -9', () => {
  it('keeps every acknowledged write readable with exactly its bytes (or a later write’s), with no torn objects and no visible temp files', async () => {
    await using dir = await tempDir('objectstore-crash-');
    const root = path.join(dir.path, 'store');
    /** Highest acknowledged write per key. */
    const acked = new Map<string, number>();
    const report: string[] = [];
    let tempsBefore = 0;
    for (let trial = 1; trial <= TRIALS; trial++) {
      const child = await spawnTsChild(writer, {
        args: [root, String(trial)],
        logFile: path.join(dir.path, `writer-${trial}.log`),
      });
      let acks = 0;
      child.onLine((line) => {
        const m = /^ACK (\S+) (\d+)$/.exec(line);
        if (!m) return;
        acks++;
        acked.set(m[1]!, Math.max(acked.get(m[1]!) ?? 0, Number(m[2])));
      });
      // Kill after a random number of acknowledged writes plus a random few ms, so the kill lands
      // anywhere in a put: writing the temp file, fsync, rename/link, directory fsync.
      const killAfterAcks = 5 + Math.floor(Math.random() * 40);
      const deadline = Date.now() + 20_000;
      while (acks < killAfterAcks && !child.hasExited && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 2));
      expect(child.hasExited).toBe(false); // a writer that died on its own is a bug, not a crash
      expect(acks).toBeGreaterThanOrEqual(killAfterAcks);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 15)));
      child.signal('SIGKILL');
      const exit = await child.exited;
      expect(exit.signal).toBe('SIGKILL');
      await new Promise((r) => setTimeout(r, 50)); // let the last ACK lines drain from the pipe

      await using store = await LocalObjectStore.open({ root });
      for (const [key, seq] of acked) {
        const data = await store.get(key);
        const found = claimedSeq(key, data);
        // put: the acknowledged write or a later one; putIfAbsent: exactly the acknowledged one,
        // since nothing can replace it.
        const ok = found !== undefined && (key.startsWith('pia/') ? found === seq : found >= seq);
        expect({ key, seq, found, ok }).toEqual({ key, seq, found, ok: true });
        expect(Buffer.from(data).equals(Buffer.from(crashContent(key, found!)))).toBe(true);
      }
      const listed: string[] = [];
      for (
        let page = await store.list(''), n = 0;
        n < 100;
        page = await store.list('', { startAfter: listed.at(-1)! }), n++
      ) {
        listed.push(...page.objects.map((o) => o.key));
        if (!page.more) break;
      }
      for (const key of listed) {
        expect(key).toMatch(/^(ow\/k[0-3]|pia\/(contended|t\d+-\d+))$/);
        const data = await store.get(key); // every visible object is whole, acknowledged or not
        const seq = claimedSeq(key, data);
        expect(seq).toBeDefined();
        expect(Buffer.from(data).equals(Buffer.from(crashContent(key, seq!)))).toBe(true);
      }
      expect(listed).toEqual(expect.arrayContaining([...acked.keys()]));
      const temps = await tempFilesOnDisk(root);
      report.push(
        `trial ${trial}: killed after ${acks} acks; ${listed.length} objects; ${temps - tempsBefore ? 'killed mid-write (temp file left, invisible)' : 'no temp file left'}`,
      );
      tempsBefore = temps;
    }
    console.log(`[crash] ${TRIALS} kill -9 trials, ${acked.size} keys acknowledged:\n${report.join('\n')}`);
  }, 110_000);
});
