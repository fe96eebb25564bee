import { Writable } from 'node:stream';

import { createLogger } from './logger.js';

/** Collects the JSON lines a logger writes. */
function sink(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes JSON lines tagged with the app, at or above the level', () => {
    const { lines, stream } = sink();
    const logger = createLogger({ level: 'info', app: 'streamsvc-test', destination: stream });
    logger.debug('hidden');
    logger.child({ component: 'wal' }).info({ pchannel: 'p0' }, 'opened');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      app: 'streamsvc-test',
      component: 'wal',
      pchannel: 'p0',
      msg: 'opened',
    });
    expect(lines[0]).not.toHaveProperty('pid');
  });
});
