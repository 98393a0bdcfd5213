import { providerState } from '../src/services/delivery/routing';

const settings = { providerSlowMs: 2000, stallMs: 250 };

describe('routing: how a provider counts for the next message', () => {
  it('is healthy with nothing out', () => {
    expect(providerState(undefined, 10_000, true, settings)).toBe('healthy');
    expect(providerState({ started: [], lastDone: 9_000 }, 10_000, true, settings)).toBe('healthy');
  });

  it('is slow once every request out has been out past PROVIDER_SLOW_MS', () => {
    expect(providerState({ started: [7_000, 8_000], lastDone: undefined }, 10_000, true, settings)).toBe('slow');
    // One fresh request: not every request is old, so not slow.
    expect(providerState({ started: [7_000, 9_900], lastDone: 9_900 }, 10_000, true, settings)).toBe('healthy');
  });

  it('is stalled when requests have been out a while and none came back meanwhile', () => {
    expect(providerState({ started: [9_500, 9_700], lastDone: undefined }, 10_000, true, settings)).toBe('stalled');
    expect(providerState({ started: [9_500, 9_700], lastDone: 9_600 }, 10_000, true, settings)).toBe('stalled');
  });

  it('stays healthy while answers keep coming back, however busy', () => {
    expect(providerState({ started: [9_500, 9_990], lastDone: 9_980 }, 10_000, true, settings)).toBe('healthy');
    // Requests out only briefly are not a stall yet.
    expect(providerState({ started: [9_800], lastDone: undefined }, 10_000, true, settings)).toBe('healthy');
  });

  it('never counts the last usable provider as slow or stalled: there is nothing to pass on to', () => {
    expect(providerState({ started: [1_000], lastDone: undefined }, 10_000, false, settings)).toBe('healthy');
    expect(providerState({ started: [9_500], lastDone: undefined }, 10_000, false, settings)).toBe('healthy');
  });
});
