import { allMessageIdCodecs } from '@streamsvc/app-kit';
import { StreamingClient } from '@streamsvc/client';

export const DEFAULT_ENDPOINT = '127.0.0.1:19540';

/**
 * Connects and waits until every pchannel has an owner (bounded, so a dead endpoint fails clearly).
 * `endpoint` is one `host:port` or a comma-separated list (the coordinators of a cluster: active and
 * standby); the client validates it (INVALID_ARGUMENT naming a malformed entry).
 */
export async function connectReady(endpoint: string, timeoutMs = 15_000): Promise<StreamingClient> {
  // Every backend's ids: the server may run on any of them.
  const client = await StreamingClient.connect({ endpoint, idCodecs: allMessageIdCodecs() });
  try {
    await client.waitReady({ signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    await client.close();
    const why =
      (e as Error).name === 'TimeoutError'
        ? `no ready topology from ${endpoint} within ${timeoutMs} ms (is a server running there?)`
        : String(e);
    throw new Error(`UNAVAILABLE: ${why}`, { cause: e });
  }
  return client;
}
