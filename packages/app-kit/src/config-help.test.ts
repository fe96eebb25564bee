import { z } from 'zod';

import { describeConfigFields, envSuffix } from './config-fields.js';
import { renderConfigTable } from './config-help.js';

const schema = z
  .object({
    dataDir: z.string().default('./data').describe('Where data lives.'),
    wal: z.enum(['woodpecker', 'memory']).default('woodpecker').describe('WAL backend | storage.'),
    verbose: z.boolean().default(false).describe('Log more.'),
    etcd: z.string().describe('etcd endpoint.'),
    timeoutMs: z.number().optional(),
  })
  .strict();
const fields = describeConfigFields(
  schema,
  { 'data-dir': { key: 'dataDir', valueName: 'DIR' }, wal: 'wal', verbose: 'verbose', etcd: 'etcd' },
  { prefix: 'APP_' },
);

describe('renderConfigTable', () => {
  it('renders an aligned text table from the schema descriptions', () => {
    expect(renderConfigTable(fields).split('\n')).toEqual([
      'setting    flag                     env             default     meaning',
      'dataDir    --data-dir DIR           APP_DATA_DIR    ./data      Where data lives.',
      'wal        --wal woodpecker|memory  APP_WAL         woodpecker  WAL backend | storage.',
      'verbose    --verbose                APP_VERBOSE     false       Log more.',
      'etcd       --etcd VALUE             APP_ETCD        (required)  etcd endpoint.',
      'timeoutMs                           APP_TIMEOUT_MS',
    ]);
  });

  it('renders a markdown table with code spans and escaped pipes, for READMEs', () => {
    const lines = renderConfigTable(fields, 'markdown').split('\n');
    expect(lines[0]).toMatch(/^\| setting +\| flag +\| env +\| default +\| meaning +\|$/);
    expect(lines[1]).toMatch(/^\| -+ \| -+ \| -+ \| -+ \| -+ \|$/);
    expect(lines[3]).toMatch(
      /^\| `wal` +\| `--wal woodpecker\|memory` +\| `APP_WAL` +\| `woodpecker` +\| WAL backend \\\| storage\. +\|$/,
    );
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});

describe('envSuffix', () => {
  it('turns camelCase keys into SCREAMING_SNAKE_CASE', () => {
    expect(['dataDir', 'shutdownTimeoutMs', 'pchannels', 's3URL', 'writeAheadBufferMiB'].map(envSuffix)).toEqual([
      'DATA_DIR',
      'SHUTDOWN_TIMEOUT_MS',
      'PCHANNELS',
      'S3_URL',
      'WRITE_AHEAD_BUFFER_MI_B',
    ]);
  });
});
