import type { ObjectStore } from '@streamsvc/objectstore';

const BLOCK_KEY = /\/(\d{1,15})\.blk$/;

/** The object layout: `<prefix>/<pchannel>/<segment>/<block>.blk`, and listing it. */
export class ObjectKeys {
  readonly #store: ObjectStore;
  readonly #prefix: string;

  constructor(store: ObjectStore, prefix: string) {
    this.#store = store;
    this.#prefix = prefix;
  }

  /** The key of block (or fence) slot `blockNo` of a segment. */
  block(pchannel: string, segmentId: number, blockNo: number): string {
    return `${this.#segmentPrefix(pchannel, segmentId)}${blockNo}.blk`;
  }

  /** Every key under a segment, in the store's order. */
  async listKeys(pchannel: string, segmentId: number): Promise<string[]> {
    return (await this.#list(pchannel, segmentId)).map((o) => o.key);
  }

  /** The block slots of a segment present in the store: block number → object size. */
  async listBlocks(pchannel: string, segmentId: number): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const o of await this.#list(pchannel, segmentId)) {
      const m = BLOCK_KEY.exec(o.key);
      if (m !== null) out.set(Number(m[1]), o.size);
    }
    return out;
  }

  async #list(pchannel: string, segmentId: number): Promise<{ key: string; size: number }[]> {
    const prefix = this.#segmentPrefix(pchannel, segmentId);
    const out: { key: string; size: number }[] = [];
    let startAfter: string | undefined;
    // Bounded by the segment's objects: each page advances startAfter past its keys.
    for (;;) {
      const page = await this.#store.list(prefix, { startAfter });
      out.push(...page.objects.map((o) => ({ key: o.key, size: o.size })));
      if (!page.more || page.objects.length === 0) return out;
      startAfter = page.objects[page.objects.length - 1]!.key;
    }
  }

  #segmentPrefix(pchannel: string, segmentId: number): string {
    return `${this.#prefix}/${pchannel}/${segmentId}/`;
  }
}
