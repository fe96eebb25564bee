import path from 'node:path';

import { startEtcd, spawnTsChild, tempDir } from '@streamsvc/testkit';

const CHILD = path.join(__dirname, 'fixtures', 'allocate-child.ts');
const TRIALS = 20;

/**
 * Starts the child, lets it allocate for a random time, kills it with SIGKILL, and returns every
 * timestamp it printed. The first printed timestamp must exceed `floor` (everything issued before).
 */
async function trial(
  args: string[],
  logFile: string,
  floor: bigint,
): Promise<{ first: bigint; max: bigint; count: number }> {
  const child = await spawnTsChild(CHILD, { args, logFile });
  const printed: bigint[] = [];
  child.onLine((line) => {
    if (/^\d+$/.test(line)) printed.push(BigInt(line));
  });
  await child.nextLine((l) => l === 'ready', 20_000);
  await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 600)));
  child.signal('SIGKILL');
  const exit = await child.exited;
  if (exit.signal !== 'SIGKILL') throw new Error(`child exited on its own (${JSON.stringify(exit)}):\n${child.tail()}`);
  expect(printed.length).toBeGreaterThan(0);
  // Four loops print concurrently, so lines are not globally sorted; every one must beat the floor.
  const min = printed.reduce((a, b) => (b < a ? b : a));
  expect(min > floor).toBe(true);
  return { first: min, max: printed.reduce((a, b) => (b > a ? b : a)), count: printed.length };
}

async function crashLoop(argsFor: (key: string) => string[], logDir: string): Promise<void> {
  const key = `crash/tso`;
  let floor = 0n;
  let total = 0;
  for (let i = 0; i < TRIALS; i++) {
    const { max, count } = await trial(argsFor(key), path.join(logDir, `child-${i}.log`), floor);
    floor = max;
    total += count;
  }
  expect(total).toBeGreaterThan(TRIALS * 10);
}

describe('GlobalTsoAllocator after kill -9', () => {
  it(`never reissues a timestamp across ${TRIALS} kills at random moments (etcd)`, async () => {
    await using etcd = await startEtcd();
    await using logs = await tempDir('tso-crash-');
    await crashLoop(() => ['etcd', etcd.endpoints[0]!, 'crash/tso'], logs.path);
  }, 240_000);

  it(`never reissues a timestamp across ${TRIALS} kills at random moments (embedded store)`, async () => {
    await using dir = await tempDir('tso-crash-embedded-');
    await crashLoop(() => ['embedded', path.join(dir.path, 'meta'), 'crash/tso'], dir.path);
  }, 240_000);
});
