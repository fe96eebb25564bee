import { describeBackendConformance, describeWalConformance } from '@streamsvc/wal-conformance';
import { pulsarWal, pulsarWalConfigSchema } from '../src/index.js';

// Both conformance suites against a real Pulsar broker through the real pulsar-client SDK. They run
// only when PULSAR_SERVICE_URL is set (e.g. pulsar://localhost:6650 from `bin/pulsar standalone`), and
// need `pulsar-client` installed (a native addon that needs the Pulsar C++ client library). Without a
// broker the block is skipped and the reason is printed, so a skip is visible in the output.
const serviceUrl = process.env['PULSAR_SERVICE_URL'];
const config = () =>
  pulsarWalConfigSchema.parse({
    serviceUrl,
    namespace: process.env['PULSAR_NAMESPACE'] ?? 'default',
    topicPrefix: 'streamsvc-conformance-',
  });

if (serviceUrl === undefined || serviceUrl === '') {
  process.stderr.write(
    '[wal-pulsar] skipping the real-broker suites — PULSAR_SERVICE_URL is not set (no Pulsar broker); ' +
      'set it to pulsar://host:6650 and `npm install pulsar-client` to run them\n',
  );
  describe.skip('pulsar backend against a real broker (PULSAR_SERVICE_URL is not set)', () => {
    it('needs PULSAR_SERVICE_URL', () => {});
  });
} else {
  describeBackendConformance({
    backend: pulsarWal,
    config,
    // A real broker deletes only whole ledgers, and only as the namespace's retention policy allows;
    // the suite accepts that (truncate is a hint). Everything else must hold as on the in-memory port.
    waitTimeoutMs: 30_000,
  });
  describeWalConformance({ backend: pulsarWal, config, messageCount: 300, writers: 10, label: 'real broker' });
}
