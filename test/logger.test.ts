import { Writable } from 'node:stream';
import { createLogger } from '../src/logger';

function capture() {
  const lines: Array<Record<string, any>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, destination };
}

/** JSON log lines as collectors read them: level, time, message, bound fields, no secrets. */
describe('logger', () => {
  it('writes one JSON line per event with the bound request fields, masking secrets at any depth', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', format: 'json' }, destination);
    const request = logger.child({ requestId: 'req-1', tenantId: 't-1' });
    request.info('graphql operation', { operation: 'MyQueue', durationMs: 12, headers: { authorization: 'Bearer abc' } });
    request.debug('not at info level');
    logger.warn('provider answered', { accessToken: 'EAAG-secret', nested: { password: 'hunter2', fine: 1 } });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'info',
      message: 'graphql operation',
      requestId: 'req-1',
      tenantId: 't-1',
      operation: 'MyQueue',
      durationMs: 12,
      headers: { authorization: '[redacted]' },
    });
    expect(Date.parse(lines[0].time)).not.toBeNaN();
    expect(lines[1]).toMatchObject({ level: 'warn', accessToken: '[redacted]', nested: { password: '[redacted]', fine: 1 } });
    expect(JSON.stringify(lines)).not.toMatch(/abc|EAAG|hunter2/);
  });

  it('logs an error with its stack, once', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', format: 'json' }, destination);
    logger.error('request failed', { error: new TypeError('boom') });
    expect(lines).toHaveLength(1);
    expect(lines[0].error).toMatchObject({ type: 'TypeError', message: 'boom' });
    expect(lines[0].error.stack).toContain('logger.test.ts');
  });
});
