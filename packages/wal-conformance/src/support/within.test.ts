import { settlesWithin, sleep, WaitTimeoutError, Watchdog, within } from './within.js';

describe('within', () => {
  it('resolves with the value of a promise that settles in time', async () => {
    await expect(within(Promise.resolve(42), 1_000, 'the answer')).resolves.toBe(42);
  });

  it('passes a rejection through unchanged', async () => {
    const error = new Error('backend failed');
    await expect(within(Promise.reject(error), 1_000, 'a failing call')).rejects.toBe(error);
  });

  it('fails with a WaitTimeoutError naming what it waited for when the promise is late', async () => {
    const never = new Promise<never>(() => {});
    await expect(within(never, 20, 'record 7 of reader 2')).rejects.toThrow(
      new WaitTimeoutError('timed out after 20 ms waiting for record 7 of reader 2'),
    );
  });
});

describe('settlesWithin', () => {
  it('reports the value of a promise that settles within the window', async () => {
    await expect(settlesWithin(Promise.resolve('x'), 1_000)).resolves.toEqual({ value: 'x' });
  });

  it('reports undefined when the promise stays pending for the whole window', async () => {
    await expect(settlesWithin(new Promise(() => {}), 20)).resolves.toBeUndefined();
  });
});

describe('Watchdog', () => {
  it('passes values and rejections of promises that settle in time', async () => {
    const watchdog = new Watchdog(1_000);
    try {
      await expect(watchdog.wait(Promise.resolve(1), 'one')).resolves.toBe(1);
      const error = new Error('no');
      await expect(watchdog.wait(Promise.reject(error), 'two')).rejects.toBe(error);
    } finally {
      watchdog.close();
    }
  });

  it('fails a wait that outlasts the bound with a WaitTimeoutError naming it', async () => {
    const watchdog = new Watchdog(20);
    try {
      await expect(watchdog.wait(new Promise(() => {}), 'message 7 of reader 2')).rejects.toThrow(
        /timed out after \d+ ms waiting for message 7 of reader 2/,
      );
    } finally {
      watchdog.close();
    }
  });

  it('does not count the time between waits against the next one', async () => {
    const watchdog = new Watchdog(40);
    try {
      await watchdog.wait(Promise.resolve(), 'first');
      await sleep(80);
      await expect(
        watchdog.wait(
          sleep(10).then(() => 'late but in time'),
          'second',
        ),
      ).resolves.toBe('late but in time');
    } finally {
      watchdog.close();
    }
  });
});
