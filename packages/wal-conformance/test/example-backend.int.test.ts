// The backend of docs/writing-a-wal-backend.md, run through both suites exactly as a backend author
// would: if the documented example stops passing, CI says so.
import { ArrayLogs, arrayWal } from '../examples/array-wal.js';
import { describeBackendConformance, describeWalConformance } from '../src/index.js';

const logs = new ArrayLogs();

describeBackendConformance({ backend: arrayWal, config: () => ({ logs }) });
describeWalConformance({ backend: arrayWal, config: () => ({ logs }), messageCount: 200 });
