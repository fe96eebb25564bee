/**
 * The Node options a server app (standalone, streaming node) is meant to run with. Its bin's shebang,
 * `npm start` and the benchmarks pass them; V8 reads them only when the process starts (and Node does not
 * take them from NODE_OPTIONS), so the app cannot set them itself.
 *
 * `--initial-old-space-size=96` puts a floor of 96 MiB under V8's old-generation limit. Without it, a
 * server taking large messages ran a full mark-compact every ~40–100 ms: each produce request allocates
 * several ArrayBuffers (HTTP/2 reads, grpc-js's message buffer, the payload copies), their external-memory
 * pressure keeps restarting incremental marking, and with ~30 MiB of live heap the limit V8 derives stays
 * close. With 64 KiB messages, 8 × 8 in flight: 61–64 → 22–23 major GCs in 4 s, server CPU per message
 * ~590 → ~320 µs, 1.8–2.0 k → 2.6–2.7 k messages/s. It is a threshold, not a reservation: RSS at rest is
 * unchanged, and a 5-minute soak at ~20 k appends/s ended at the same RSS with and without it (see
 * docs/operations.md, "Node options").
 */
export const SERVER_NODE_OPTIONS: readonly string[] = ['--initial-old-space-size=96'];

/**
 * The options of `expected` that `execArgv` (a process's Node options) does not set, compared by name:
 * another value of one of them counts as set (an operator's choice).
 */
export function missingNodeOptions(expected: readonly string[], execArgv: readonly string[]): string[] {
  const name = (option: string): string => option.split('=')[0]!;
  const given = new Set(execArgv.map(name));
  return expected.filter((option) => !given.has(name(option)));
}
