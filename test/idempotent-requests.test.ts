import { checkedIdempotencyKey, fingerprintOf } from '../src/services/platform/idempotent-requests';

describe('idempotency keys', () => {
  it('fingerprints a body by its content, not by the order its keys were written in', () => {
    const one = fingerprintOf([{ type: 'quote.sent', payload: { amount: 1, currency: 'IDR' } }]);
    expect(fingerprintOf([{ payload: { currency: 'IDR', amount: 1 }, type: 'quote.sent' }])).toBe(one);
    expect(fingerprintOf([{ type: 'quote.sent', payload: { amount: 2, currency: 'IDR' } }])).not.toBe(one);
    expect(fingerprintOf([{ type: 'quote.sent', payload: { amount: 1, currency: 'IDR' } }, {}])).not.toBe(one);
  });

  it('takes 1-190 visible characters and refuses anything else naming where it came from', () => {
    expect(checkedIdempotencyKey(undefined)).toBeNull();
    expect(checkedIdempotencyKey(' 5f0c-1 ')).toBe('5f0c-1');
    for (const bad of ['', 'has space', 'x'.repeat(191), 'é', 42]) {
      expect(() => checkedIdempotencyKey(bad, 'idempotencyKey')).toThrow(/idempotencyKey must be 1-190 visible ASCII/);
    }
  });
});
