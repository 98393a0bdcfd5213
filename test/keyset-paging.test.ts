import { encodeCursor, finishKeyset, planKeyset } from '../src/services/platform/pagination';

const ID = '00000000-0000-4000-8000-000000000001';
const cursor = encodeCursor('createdAt', '2026-12-01T00:00:00.000Z', ID);

/** Which way a page request reads a keyset order, and the page its rows make. */
describe('keyset page plans', () => {
  it('reads forwards in the list order and backwards in the reverse order', () => {
    expect(planKeyset({ first: 20 }, 'createdAt', 'timestamp', 'DESC')).toEqual({
      backward: false,
      cursor: null,
      size: 20,
      direction: 'DESC',
      comparison: '<',
    });
    expect(planKeyset({ first: 20, last: 5, before: cursor }, 'createdAt', 'timestamp', 'DESC')).toEqual({
      backward: true,
      cursor: { value: '2026-12-01T00:00:00.000Z', id: ID },
      size: 5,
      direction: 'ASC',
      comparison: '>',
    });
    // `before` alone pages backwards by `first`.
    expect(planKeyset({ first: 3, before: cursor }, 'createdAt', 'timestamp', 'ASC')).toMatchObject({
      backward: true,
      size: 3,
      direction: 'DESC',
    });
  });

  it('refuses both directions at once, page sizes out of range and cursors of another order', () => {
    const code = (run: () => unknown) => {
      try {
        run();
      } catch (error: any) {
        return [error.code, [error.details.field]];
      }
      return 'accepted';
    };
    expect(code(() => planKeyset({ first: 2, after: cursor, before: cursor }, 'createdAt', 'timestamp', 'ASC'))).toEqual([
      'BAD_USER_INPUT',
      ['after'],
    ]);
    expect(code(() => planKeyset({ first: 2, last: 0 }, 'createdAt', 'timestamp', 'ASC'))).toEqual(['BAD_USER_INPUT', ['last']]);
    expect(code(() => planKeyset({ first: 101 }, 'createdAt', 'timestamp', 'ASC'))).toEqual(['BAD_USER_INPUT', ['first']]);
    expect(code(() => planKeyset({ first: 2, before: cursor }, 'number', 'integer', 'ASC'))).toEqual([
      'BAD_USER_INPUT',
      ['before'],
    ]);
  });

  it('turns a backward page round and says which sides hold more', () => {
    const cursorOf = (n: number) => String(n);
    const back = planKeyset({ first: 2, last: 2, before: cursor }, 'createdAt', 'timestamp', 'ASC');
    // Read in reverse: 9, 8, and one more (7) to learn that more precede.
    expect(finishKeyset([9, 8, 7], back, cursorOf)).toEqual({
      edges: [
        { node: 8, cursor: '8' },
        { node: 9, cursor: '9' },
      ],
      hasNextPage: true,
      hasPreviousPage: true,
    });
    const tail = planKeyset({ first: 2, last: 2 }, 'createdAt', 'timestamp', 'ASC');
    expect(finishKeyset([2, 1], tail, cursorOf)).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    const forward = planKeyset({ first: 2, after: cursor }, 'createdAt', 'timestamp', 'ASC');
    expect(finishKeyset([4, 5, 6], forward, cursorOf)).toEqual({
      edges: [
        { node: 4, cursor: '4' },
        { node: 5, cursor: '5' },
      ],
      hasNextPage: true,
      hasPreviousPage: true,
    });
  });
});
