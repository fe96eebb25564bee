// The README's example, kept here so that the documentation cannot drift from the API.
import { noopLogger, systemClock } from '@streamsvc/common';
import { MessageBuilder } from '@streamsvc/message';
import { InMemoryPulsar, pulsarWal } from './index.js';

describe('the README example', () => {
  it('appends a stamped message through the in-memory port and reads it back from its id', async () => {
    const port = new InMemoryPulsar(); // or: { serviceUrl: 'pulsar://localhost:6650' } with pulsar-client installed
    const opener = await pulsarWal.createOpener(pulsarWal.configSchema.parse({ port }), {
      logger: noopLogger,
      clock: systemClock,
    });
    const wal = await opener.open({ pchannel: 'by-dev-dml_0', term: 1n, mode: 'rw' });
    const message = MessageBuilder.data(new TextEncoder().encode('hello')).vchannel('by-dev-dml_0_449v0').build();
    const id = await wal.append(message.withTimeTick(1n).withLastConfirmedSelf());
    const seen: string[] = [];
    for await (const stored of await wal.read({ policy: { kind: 'startFrom', id } })) {
      seen.push(stored.id.toString());
      break;
    }
    await opener.close();
    expect(seen).toEqual([id.toString()]);
    expect(id.toString()).toMatch(/^v1:/);
    expect(port.topics).toEqual(['persistent://public/default/by-dev-dml_0']);
  });
});
