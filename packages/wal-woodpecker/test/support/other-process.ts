import type { MetaKv } from '@streamsvc/metastore';

/**
 * The same MetaKv behind another object identity. In-process tail notifications are shared per MetaKv
 * instance, so an opener given this one behaves like one in another process: its readers learn of new
 * data only by polling the storage, exactly as a reader on another machine would.
 */
export function asAnotherProcess(kv: MetaKv): MetaKv {
  return {
    kind: kv.kind,
    get: (...a) => kv.get(...a),
    put: (...a) => kv.put(...a),
    delete: (...a) => kv.delete(...a),
    deletePrefix: (...a) => kv.deletePrefix(...a),
    list: (...a) => kv.list(...a),
    txn: (...a) => kv.txn(...a),
    watch: (...a) => kv.watch(...a),
    grantLease: (...a) => kv.grantLease(...a),
    revokeLease: (...a) => kv.revokeLease(...a),
    revision: (...a) => kv.revision(...a),
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
}
