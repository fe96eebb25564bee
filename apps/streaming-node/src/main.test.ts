import { readFileSync } from 'node:fs';
import path from 'node:path';

import { SERVER_NODE_OPTIONS } from '@streamsvc/app-kit';

describe('the bin', () => {
  it('starts Node with the server options, which V8 reads only at startup', () => {
    const shebang = readFileSync(path.join(__dirname, 'main.ts'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVER_NODE_OPTIONS.join(' ')}`);
  });
});
