import type { Readable } from 'node:stream';

import { isVChannelName } from '@streamsvc/message';
import { runStandalone } from '@streamsvc/standalone';
import { Command, InvalidArgumentError, Option } from 'commander';

import { createCollection } from './collections.js';
import { connectReady, DEFAULT_ENDPOINT } from './connect.js';
import { consume } from './consume.js';
import { printStatus, printTopology } from './inspect.js';
import type { Io } from './output.js';
import { describeFailure, toJson } from './output.js';
import { produceLines, produceLoad } from './produce.js';

/** Fails fast on a malformed vchannel name, before connecting. */
function checkVChannel(vchannel: string): void {
  if (!isVChannelName(vchannel)) {
    throw new Error(
      `INVALID_ARGUMENT: ${JSON.stringify(vchannel)} is not a vchannel name (<cluster>-dml_<i>_<collectionId>v<shard>)`,
    );
  }
}

/** What a run needs from its environment (tests pass their own). */
export interface CliEnv {
  readonly io: Io;
  readonly stdin: Readable;
  /** Ends `consume --follow` (Ctrl-C). */
  readonly signal?: AbortSignal;
}

const positiveInt =
  (name: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
    return n;
  };

/**
 * Runs the `streamsvc` command line; resolves with the exit code. Every failure prints one line
 * `streamsvc: <CODE>: <message>` on stderr and exits non-zero.
 */
export async function runCli(argv: readonly string[], env: CliEnv): Promise<number> {
  const { io } = env;
  let exitCode = 0;
  const endpoint = new Option(
    '--endpoint <host:port[,host:port...]>',
    "standalone server, or a cluster's coordinators, comma-separated (the active one is used)",
  ).default(DEFAULT_ENDPOINT);
  const program = new Command('streamsvc')
    .description('streamsvc: a distributed write-ahead log — run a server, produce, consume, inspect')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError();

  program
    .command('start')
    .description(
      'run the standalone server (flags: --data-dir, --listen, --http, --cluster, --pchannels, --wal, --log-level, --config)',
    )
    .allowUnknownOption()
    .helpOption(false)
    .argument('[flags...]')
    .action(async (flags: string[]) => {
      exitCode = await runStandalone(flags);
    });

  program
    .command('create-collection')
    .description('create a collection and print its vchannels')
    .argument('<name>')
    .option('--shards <n>', 'number of shards (vchannels)', positiveInt('--shards'), 1)
    .addOption(endpoint)
    .option('--json', 'print JSON')
    .action(async (name: string, o: { shards: number; endpoint: string; json?: boolean }) => {
      await using client = await connectReady(o.endpoint);
      const created = await createCollection(client, name, o.shards);
      if (o.json)
        io.out(
          toJson({ collection: created.collection, collectionId: created.collectionId, vchannels: created.vchannels }),
        );
      else
        io.out(
          `collection ${created.collection} (id ${created.collectionId}) with ${created.vchannels.length} shard(s):\n${created.vchannels.map((v) => `  ${v}`).join('\n')}`,
        );
    });

  program
    .command('produce')
    .description('append one Data message per stdin line (or generated load with --count)')
    .requiredOption('--vchannel <vchannel>', 'target vchannel')
    .addOption(endpoint)
    .option('--json', 'one JSON line per ack: {"line","messageId","timeTick"}')
    .option('--txn-size <k>', 'group every K lines into one transaction', positiveInt('--txn-size'))
    .option('--count <n>', 'generate N messages instead of reading stdin', positiveInt('--count'))
    .option('--size <bytes>', 'generated message size', positiveInt('--size'), 1024)
    .option('--concurrency <n>', 'appends in flight (stdin order is kept only with 1)', positiveInt('--concurrency'))
    .action(
      async (o: {
        vchannel: string;
        endpoint: string;
        json?: boolean;
        txnSize?: number;
        count?: number;
        size: number;
        concurrency?: number;
      }) => {
        checkVChannel(o.vchannel);
        await using client = await connectReady(o.endpoint);
        if (o.count !== undefined) {
          await produceLoad(
            client,
            {
              vchannel: o.vchannel,
              count: o.count,
              size: o.size,
              concurrency: o.concurrency ?? 64,
              json: o.json ?? false,
            },
            io,
          );
        } else {
          await produceLines(
            client,
            env.stdin,
            { vchannel: o.vchannel, json: o.json ?? false, txnSize: o.txnSize, concurrency: o.concurrency ?? 1 },
            io,
          );
        }
      },
    );

  program
    .command('consume')
    .description('print the messages of a vchannel in time-tick order (transactions flattened)')
    .requiredOption('--vchannel <vchannel>', 'vchannel to read')
    .option('--from <where>', 'earliest, latest or tt:<time tick>', 'earliest')
    .option('--follow', 'keep waiting for new messages')
    .option('--idle-exit-ms <ms>', 'exit after this long without a message', positiveInt('--idle-exit-ms'))
    .addOption(endpoint)
    .option('--json', 'one JSON line per message: {"messageId","timeTick","type","payload"}')
    .action(
      async (o: {
        vchannel: string;
        from: string;
        follow?: boolean;
        idleExitMs?: number;
        endpoint: string;
        json?: boolean;
      }) => {
        checkVChannel(o.vchannel);
        await using client = await connectReady(o.endpoint);
        await consume(
          client,
          {
            vchannel: o.vchannel,
            from: o.from,
            follow: o.follow ?? false,
            idleExitMs: o.idleExitMs,
            json: o.json ?? false,
          },
          io,
          env.signal,
        );
      },
    );

  program
    .command('topology')
    .description('show which node owns each pchannel, under which term')
    .addOption(endpoint)
    .option('--json', 'print JSON')
    .action(async (o: { endpoint: string; json?: boolean }) => {
      await using client = await connectReady(o.endpoint);
      printTopology(client, o.json ?? false, io);
    });

  program
    .command('status')
    .description("show every node's health and WALs")
    .addOption(endpoint)
    .option('--json', 'print JSON')
    .action(async (o: { endpoint: string; json?: boolean }) => {
      await using client = await connectReady(o.endpoint);
      await printStatus(client, o.json ?? false, io);
    });

  program
    .command('bench')
    .description('load a running server: `bench produce` appends generated messages and reports rate and latency')
    .argument('<scenario>', 'produce')
    .requiredOption('--vchannel <vchannel>', 'target vchannel')
    .option('--count <n>', 'messages', positiveInt('--count'), 10_000)
    .option('--size <bytes>', 'message size', positiveInt('--size'), 1024)
    .option('--concurrency <n>', 'appends in flight', positiveInt('--concurrency'), 64)
    .addOption(endpoint)
    .option('--json', 'print JSON')
    .action(
      async (
        scenario: string,
        o: { vchannel: string; count: number; size: number; concurrency: number; endpoint: string; json?: boolean },
      ) => {
        if (scenario !== 'produce')
          throw new Error(`INVALID_ARGUMENT: unknown bench scenario ${JSON.stringify(scenario)}; known: produce`);
        checkVChannel(o.vchannel);
        await using client = await connectReady(o.endpoint);
        await produceLoad(
          client,
          { vchannel: o.vchannel, count: o.count, size: o.size, concurrency: o.concurrency, json: o.json ?? false },
          io,
        );
      },
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    const code = (e as { code?: string; exitCode?: number }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return (e as { exitCode?: number }).exitCode ?? 2;
    io.err(`streamsvc: ${describeFailure(e)}`);
    return 1;
  }
}
