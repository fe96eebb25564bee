import { noopLogger, systemClock } from '@streamsvc/common';

import { kafkaWal } from '../src/index.js';
import { kafkaFixture } from './support/kafka-fixture.js';

const kafka = kafkaFixture();
const deps = { logger: noopLogger, clock: systemClock };

// The librdkafka 2.0.2 mock creates a missing topic on any metadata request, whatever the request's
// AllowAutoTopicCreation says, so "auto-creation off and the topic missing" cannot be shown here; the
// unit test over the fake port covers that path (src/kafka-wal.test.ts).
describe('topics', () => {
  it('opens a topic an operator created with one partition, with auto-creation off and a topic prefix', async () => {
    await kafka().kafka.command('topic ops.created-dml_0 1 1');
    const config = kafka().config({ allowAutoTopicCreation: false, topicPrefix: 'ops.' });
    await using opener = await kafkaWal.createOpener(config, deps);
    const wal = await opener.open({ pchannel: 'created-dml_0', term: 1n, mode: 'ro' });
    await using scanner = await wal.read({ policy: { kind: 'all' } });
    expect(scanner).toBeDefined();
  });
});
