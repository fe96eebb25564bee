import { writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes one line to stdout synchronously, for crash-test children that report each acknowledged
 * operation before doing the next: once this returns, the parent can read the line even if the child
 * is killed the next instant. Stdout is a non-blocking pipe, so a full pipe (EAGAIN) is waited out.
 */
export function writeLineSync(line: string): void {
  const bytes = Buffer.from(line + '\n');
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
