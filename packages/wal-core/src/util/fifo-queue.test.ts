import fc from 'fast-check';

import { FifoQueue } from './fifo-queue.js';

describe('FifoQueue', () => {
  it('behaves like an array used as a queue, across compactions', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 5000 }), (ops) => {
        const queue = new FifoQueue<number>();
        const model: number[] = [];
        for (const op of ops) {
          if (op === null) expect(queue.shift()).toBe(model.shift());
          else {
            queue.push(op);
            model.push(op);
          }
          expect(queue.size).toBe(model.length);
          expect(queue.peek()).toBe(model[0]);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('keeps order when thousands of items pass through with a long backlog', () => {
    const queue = new FifoQueue<number>();
    let next = 0;
    for (let i = 0; i < 10_000; i++) queue.push(i);
    for (let i = 10_000; i < 50_000; i++) {
      queue.push(i);
      expect(queue.shift()).toBe(next++);
    }
    expect(queue.size).toBe(10_000);
  });
});
