import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

import { noopLogger } from '@streamsvc/common';
import { compose, loadConfig } from '@streamsvc/standalone';
import type { StandaloneApp } from '@streamsvc/standalone';
import { repoRoot, tempDir } from '@streamsvc/testkit';
import type { TempDir } from '@streamsvc/testkit';

import { runCli } from '../src/index.js';

interface Run {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

let dir: TempDir;
let app: StandaloneApp;

async function cli(args: string[], stdin = ''): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const own = args[0] === 'start' || args.includes('--endpoint');
  const code = await runCli([...args, ...(own ? [] : ['--endpoint', app.grpcAddress])], {
    io: { out: (l) => out.push(l), err: (l) => err.push(l), isTty: false },
    stdin: Readable.from(stdin),
  });
  return { code, out, err };
}

/** A `host:port` on 127.0.0.1 that nothing listens on (a port just bound and released). */
async function closedEndpoint(): Promise<string> {
  const server = createServer();
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

const json = (run: Run): Record<string, unknown>[] => run.out.map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  dir = await tempDir('cli-');
  const config = loadConfig(
    ['--data-dir', dir.path, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--pchannels', '2'],
    {},
  );
  app = await compose(config, { logger: noopLogger });
}, 30_000);

afterAll(async () => {
  await app?.close();
  await dir?.remove();
});

describe('streamsvc CLI against a standalone server', () => {
  it('creates a collection, produces lines, and consumes them back in order, txns flattened', async () => {
    const created = await cli(['create-collection', 'events', '--shards', '2', '--json']);
    expect(created.code).toBe(0);
    const { vchannels } = json(created)[0] as { vchannels: string[] };
    expect(vchannels).toHaveLength(2);
    const v = vchannels[0]!;

    const produced = await cli(['produce', '--vchannel', v, '--json'], 'alpha\nbeta\ngamma\n');
    expect(produced.code).toBe(0);
    expect(json(produced).map((a) => a['line'])).toEqual([1, 2, 3]);
    expect(json(produced).every((a) => typeof a['messageId'] === 'string' && /^\d+$/.test(String(a['timeTick'])))).toBe(
      true,
    );

    const txn = await cli(['produce', '--vchannel', v, '--json', '--txn-size', '2'], 'one\ntwo\nthree\n');
    expect(txn.code).toBe(0);
    expect(json(txn).map((a) => a['line'])).toEqual([1, 2, 3]);

    const consumed = await cli(['consume', '--vchannel', v, '--from', 'earliest', '--json', '--idle-exit-ms', '1500']);
    expect(consumed.code).toBe(0);
    const messages = json(consumed);
    expect(messages.filter((m) => m['type'] === 'Data').map((m) => m['payload'])).toEqual([
      'alpha',
      'beta',
      'gamma',
      'one',
      'two',
      'three',
    ]);
    const tts = messages.map((m) => BigInt(String(m['timeTick'])));
    expect(tts.every((tt, i) => i === 0 || tt >= tts[i - 1]!)).toBe(true);

    const after = messages.find((m) => m['payload'] === 'gamma')!['timeTick'];
    const tail = await cli([
      'consume',
      '--vchannel',
      v,
      '--from',
      `tt:${String(after)}`,
      '--json',
      '--idle-exit-ms',
      '1500',
    ]);
    expect(json(tail).map((m) => m['payload'])).toEqual(['one', 'two', 'three']);
  }, 30_000);

  it('stops quietly with exit 0 when the reader of its output goes away (`consume | head -1`)', async () => {
    const created = await cli(['create-collection', 'piped', '--json']);
    const v = (json(created)[0] as { vchannels: string[] }).vchannels[0]!;
    await cli(['produce', '--vchannel', v], 'first\n');
    const tsx = createRequire(path.join(repoRoot(), 'packages', 'testkit', 'package.json')).resolve('tsx');
    const main = path.join(__dirname, '..', 'src', 'main.ts');
    const child = spawn(
      process.execPath,
      [
        '--conditions=@streamsvc/source',
        '--import',
        tsx,
        main,
        'consume',
        '--vchannel',
        v,
        '--endpoint',
        app.grpcAddress,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Like `head -1`: read the first line, then close the pipe; the next write meets EPIPE.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    for (let i = 0; i < 20 && child.exitCode === null; i++) {
      await cli(['produce', '--vchannel', v], `more-${i}\n`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
  }, 60_000);

  it('shows the topology and every WAL as open', async () => {
    const topology = await cli(['topology', '--json']);
    expect(topology.code).toBe(0);
    const t = json(topology)[0] as { pchannels: { pchannel: string; node?: string }[] };
    expect(t.pchannels.map((p) => p.pchannel)).toEqual(app.pchannels);
    expect(t.pchannels.every((p) => p.node === app.grpcAddress)).toBe(true);
    const status = await cli(['status', '--json']);
    const s = json(status)[0] as { nodes: { serving: boolean; wals: { state: string }[] }[] };
    expect(s.nodes).toHaveLength(1);
    expect(s.nodes[0]!.serving).toBe(true);
    expect(s.nodes[0]!.wals.map((w) => w.state)).toEqual(['open', 'open']);
  });

  it('takes a comma-separated --endpoint list and skips an entry nothing listens on', async () => {
    const topology = await cli(['topology', '--json', '--endpoint', `${await closedEndpoint()},${app.grpcAddress}`]);
    expect(topology.code).toBe(0);
    const t = json(topology)[0] as { pchannels: { pchannel: string }[] };
    expect(t.pchannels.map((p) => p.pchannel)).toEqual(app.pchannels);
  });

  it('rejects an --endpoint list with a malformed entry, naming it', async () => {
    const run = await cli(['topology', '--endpoint', `${app.grpcAddress},no-port`]);
    expect(run.code).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(/^streamsvc: INVALID_ARGUMENT: .*"no-port"/)]);
  });

  it('fails with one line naming the code for bad input', async () => {
    const badName = await cli(['produce', '--vchannel', 'not-a-vchannel'], 'x\n');
    expect(badName.code).toBe(1);
    expect(badName.err).toEqual([expect.stringMatching(/^streamsvc: INVALID_ARGUMENT: .*not-a-vchannel/)]);
    const unknown = await cli(['produce', '--vchannel', `${app.pchannels[0]}_123v0`], 'x\n');
    expect(unknown.code).toBe(1);
    expect(unknown.err.join('\n')).toMatch(/^streamsvc: VCHANNEL_NOT_EXIST: /);
    const badFrom = await cli(['consume', '--vchannel', `${app.pchannels[0]}_123v0`, '--from', 'yesterday']);
    expect(badFrom.code).toBe(1);
    expect(badFrom.err.join('\n')).toMatch(/INVALID_ARGUMENT: --from/);
    const badShards = await cli(['create-collection', 'x', '--shards', '0']);
    expect(badShards.code).not.toBe(0);
  });
});
