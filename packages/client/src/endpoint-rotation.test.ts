import { EndpointRotation } from './endpoint-rotation.js';

describe('EndpointRotation', () => {
  it('starts at the first endpoint and moves round-robin past each one that fails', () => {
    const r = new EndpointRotation(['a:1', 'b:2', 'c:3']);
    expect(r.current).toBe('a:1');
    expect(r.failed('a:1')).toBe('b:2');
    expect(r.failed('b:2')).toBe('c:3');
    expect(r.failed('c:3')).toBe('a:1');
  });

  it('starts at the endpoint that last succeeded', () => {
    const r = new EndpointRotation(['a:1', 'b:2', 'c:3']);
    r.succeeded('c:3');
    expect(r.current).toBe('c:3');
    expect(r.failed('c:3')).toBe('a:1');
  });

  it('does not advance for a failure of an endpoint that is no longer current', () => {
    const r = new EndpointRotation(['a:1', 'b:2', 'c:3']);
    // Discovery and a unary call both saw a:1 fail; only the first report moves the rotation.
    r.failed('a:1');
    expect(r.failed('a:1')).toBe('b:2');
  });

  it('ignores endpoints it does not know and drops duplicates', () => {
    const r = new EndpointRotation(['a:1', 'b:2', 'a:1']);
    expect(r.endpoints).toEqual(['a:1', 'b:2']);
    r.succeeded('z:9');
    expect(r.current).toBe('a:1');
  });

  it('keeps a single endpoint current whatever happens', () => {
    const r = new EndpointRotation(['a:1']);
    expect(r.failed('a:1')).toBe('a:1');
    r.succeeded('a:1');
    expect(r.current).toBe('a:1');
  });

  it('refuses an empty list', () => {
    expect(() => new EndpointRotation([])).toThrow('at least one endpoint');
  });
});

describe('EndpointRound', () => {
  it('says to back off only once every endpoint failed in a row, then counts a new round', () => {
    const round = new EndpointRotation(['a:1', 'b:2', 'c:3']).round();
    expect([round.failed('a:1'), round.failed('b:2'), round.failed('c:3')]).toEqual([false, false, true]);
    expect(round.current).toBe('a:1');
    expect([round.failed('a:1'), round.failed('b:2'), round.failed('c:3')]).toEqual([false, false, true]);
  });

  it('says to back off after every failure when there is one endpoint', () => {
    const round = new EndpointRotation(['a:1']).round();
    expect([round.failed('a:1'), round.failed('a:1')]).toEqual([true, true]);
  });

  it('starts the count over after a success or an answer that is not an endpoint failure', () => {
    const rotation = new EndpointRotation(['a:1', 'b:2']);
    const round = rotation.round();
    expect(round.failed('a:1')).toBe(false);
    round.succeeded('b:2');
    expect(round.failed('b:2')).toBe(false);
    expect(rotation.current).toBe('a:1');
    round.restart();
    expect(round.failed('a:1')).toBe(false);
    expect(round.failed('b:2')).toBe(true);
  });

  it('shares the current endpoint with every other round of the rotation', () => {
    const rotation = new EndpointRotation(['a:1', 'b:2']);
    const discovery = rotation.round();
    const calls = rotation.round();
    discovery.succeeded('b:2');
    expect(calls.current).toBe('b:2');
  });
});
