import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';

import { kafkaWal } from '../src/index.js';
import { kafkaFixture } from './support/kafka-fixture.js';

const kafka = kafkaFixture();

// The README's minimal example, against the mock broker instead of 127.0.0.1:9092.
it('runs the README example: append one message and read it back by its id', async () => {
  const config = kafkaWal.configSchema.parse({ brokers: [...kafka().kafka.brokers] });
  const opener = await kafkaWal.createOpener(config, { logger: noopLogger, clock: systemClock });
  const wal = await opener.open({ pchannel: 'by-dev-dml_0', term: 1n, mode: 'rw' });
  const message = MessageBuilder.data(new TextEncoder().encode('hello')).vchannel('by-dev-dml_0_449v0').build();
  const id = await wal.append(message.withTimeTick(1n).withLastConfirmedSelf());
  const seen: string[] = [];
  for await (const stored of await wal.read({ policy: { kind: 'startFrom', id } })) {
    seen.push(stored.id.toString());
    expect(new TextDecoder().decode(stored.payload)).toBe('hello');
    break;
  }
  expect(seen).toEqual(['v1:0']);
  await opener.close();
});
