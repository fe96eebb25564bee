import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { ManagedProcess, TestkitError, isListening, startEtcd, startKafka, startS3, tempDir } from '../src/index.js';

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startEtcd', () => {
  it('starts a healthy etcd on a random loopback port, restarts it on the same data, and stops it by pid', async () => {
    const etcd = await startEtcd();
    const pid = etcd.process.pid;
    expect(etcd.endpoints[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const put = await fetch(`${etcd.endpoints[0]}/v3/kv/put`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from('k').toString('base64'), value: Buffer.from('v').toString('base64') }),
    });
    expect(put.ok).toBe(true);
    await etcd.restart();
    expect(etcd.process.pid).not.toBe(pid);
    const range = await fetch(`${etcd.endpoints[0]}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from('k').toString('base64') }),
    });
    const body = (await range.json()) as { kvs?: { value: string }[] };
    expect(Buffer.from(body.kvs?.[0]?.value ?? '', 'base64').toString()).toBe('v');
    const newPid = etcd.process.pid;
    await etcd.stop();
    expect(processAlive(newPid)).toBe(false);
    await etcd.stop(); // idempotent
  });
});

describe('startKafka', () => {
  it('starts the librdkafka mock, answers control commands and stops', async () => {
    await using kafka = await startKafka({ brokers: 2, topics: ['wal:1:1'] });
    expect(kafka.brokers).toHaveLength(2);
    for (const broker of kafka.brokers) {
      expect(broker).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await isListening(Number(broker.split(':')[1]))).toBe(true);
    }
    expect(kafka.librdkafkaVersion).toMatch(/^\d+\.\d+\.\d+/);
    await expect(kafka.command('topic extra 1 1')).resolves.toMatch(/^OK/);
    await expect(kafka.command('bogus')).rejects.toThrow(/rejected "bogus"/);
  });
});

describe('startS3', () => {
  it.each(['moto', 's3rver'] as const)('starts %s on a random loopback port', async (kind) => {
    await using s3 = await startS3({ kind });
    expect(s3.kind).toBe(kind);
    expect(s3.conditionalWrites).toBe(kind === 'moto');
    expect(await isListening(s3.port)).toBe(true);
    const res = await fetch(s3.endpoint);
    expect(res.status).toBeLessThan(500);
  });
});

describe('ManagedProcess', () => {
  it('reports a process that exits before it is ready with its log tail', async () => {
    await using dir = await tempDir();
    const proc = await ManagedProcess.spawn({
      name: 'doomed',
      command: process.execPath,
      args: ['-e', 'console.error("cannot bind: address already in use"); process.exit(3)'],
      logFile: path.join(dir.path, 'doomed.log'),
    });
    const error = await proc.waitReady(async () => false, 5000).catch((e: unknown) => e);
    expect(TestkitError.is(error, 'START_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/code 3[\s\S]*address already in use/);
    await proc.stop();
    expect(await readFile(path.join(dir.path, 'doomed.log'), 'utf8')).toContain('address already in use');
  });

  it('kills a process that never becomes ready and reports a timeout', async () => {
    await using dir = await tempDir();
    const proc = await ManagedProcess.spawn({
      name: 'sleeper',
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      logFile: path.join(dir.path, 'sleeper.log'),
    });
    const error = await proc.waitReady(async () => false, 300).catch((e: unknown) => e);
    expect(TestkitError.is(error, 'START_TIMEOUT')).toBe(true);
    expect(proc.hasExited).toBe(true);
  });

  it('names the missing program when the executable does not exist', async () => {
    await using dir = await tempDir();
    const error = await ManagedProcess.spawn({
      name: 'ghost',
      command: '/nonexistent/ghost-binary',
      args: [],
      logFile: path.join(dir.path, 'ghost.log'),
    }).catch((e: unknown) => e);
    expect(TestkitError.is(error, 'BINARY_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('ghost-binary');
  });
});
