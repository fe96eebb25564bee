import { spawnSync } from 'node:child_process';
import path from 'node:path';

// CI runs this so that a .proto change without `pnpm run codegen` (or a hand edit of src/gen) fails the
// build instead of shipping encoders that disagree with the schema. It needs the buf binary from
// @bufbuild/buf; a missing binary is a failure, not a skip.
describe('generated protobuf code', () => {
  it('matches what buf generate produces from proto/, and the protos pass buf lint', () => {
    const pkg = path.resolve(__dirname, '..');
    const result = spawnSync(process.execPath, [path.join(pkg, '..', '..', 'tools', 'codegen-check.mjs')], {
      cwd: pkg,
      encoding: 'utf8',
    });
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({
      status: 0,
      output: 'codegen:check: src/gen is up to date with proto/\n',
    });
  });
});
