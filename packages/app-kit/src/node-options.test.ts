import { missingNodeOptions, SERVER_NODE_OPTIONS } from './node-options.js';

const missingServerNodeOptions = (execArgv: string[]): string[] => missingNodeOptions(SERVER_NODE_OPTIONS, execArgv);

describe('missingNodeOptions', () => {
  it('names every server option a process was started without', () => {
    expect(missingServerNodeOptions([])).toEqual([...SERVER_NODE_OPTIONS]);
    expect(missingServerNodeOptions(['--conditions=@streamsvc/source', '--import', 'tsx'])).toEqual([
      ...SERVER_NODE_OPTIONS,
    ]);
  });

  it('is empty when the process was started with them', () => {
    expect(missingServerNodeOptions([...SERVER_NODE_OPTIONS, '--enable-source-maps'])).toEqual([]);
  });

  it('counts another value of an option as set: the operator chose it', () => {
    const other = SERVER_NODE_OPTIONS.map((o) => `${o.split('=')[0]!}=512`);
    expect(missingServerNodeOptions(other)).toEqual([]);
  });
});
