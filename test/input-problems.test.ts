import type { ValidationError } from 'class-validator';
import { anchor, domainProblems, splitPath, validationProblems, variableProblems } from '../src/schema/input-problems';

/** The one shape of BAD_USER_INPUT, from each of the ways services and the type system refuse input. */
describe('input problems', () => {
  it('splits a service path into names and indexes', () => {
    expect(splitPath('audience.contactIds[0]')).toEqual(['audience', 'contactIds', 0]);
    expect(splitPath('events[3].data.amount')).toEqual(['events', 3, 'data', 'amount']);
    expect(splitPath('')).toEqual([]);
  });

  it('anchors every path at an argument: kept when it starts at one, else inside `input`', () => {
    expect(anchor(['note'], ['id', 'note'])).toEqual(['note']);
    expect(anchor(['sendAt'], ['id', 'input'])).toEqual(['input', 'sendAt']);
    expect(anchor(['input', 'description'], ['input'])).toEqual(['input', 'description']);
    expect(anchor(['from'], ['from', 'to'])).toEqual(['from']);
    expect(anchor(['x'], [])).toEqual(['x']);
  });

  it('turns class-validator errors into one problem per broken constraint, nested and listed ones too', () => {
    const errors = [
      { property: 'subject', constraints: { isLength: 'subject must be 1-200 characters' }, children: [] },
      {
        property: 'tags',
        children: [{ property: '1', constraints: { maxLength: 'each tag is at most 50 characters' }, children: [] }],
      },
    ] as unknown as ValidationError[];
    expect(validationProblems(errors, ['input'])).toEqual([
      { path: ['input', 'subject'], message: 'subject must be 1-200 characters', code: 'IS_LENGTH' },
      { path: ['input', 'tags', 1], message: 'each tag is at most 50 characters', code: 'MAX_LENGTH' },
    ]);
  });

  it('reads a domain error as its problems, else its field, else the whole input', () => {
    expect(domainProblems('bad', { problems: [{ path: 'events[2].type', problem: 'is required' }] }, ['events'])).toEqual([
      { path: ['events', 2, 'type'], message: 'is required', code: 'INVALID' },
    ]);
    expect(domainProblems('bad', { problems: [{ field: 'email', problem: 'is taken' }] }, ['input'])).toEqual([
      { path: ['input', 'email'], message: 'is taken', code: 'INVALID' },
    ]);
    expect(domainProblems('too long', { field: 'note', problemCode: 'TOO_LONG' }, ['id', 'note'])).toEqual([
      { path: ['note'], message: 'too long', code: 'TOO_LONG' },
    ]);
    expect(domainProblems('`from` must be before `to`', {}, ['from', 'to'])).toEqual([
      { path: [], message: '`from` must be before `to`', code: 'INVALID' },
    ]);
  });

  it("reads graphql-js's refusals of variables, the path starting at the variable", () => {
    expect(
      variableProblems('Variable "$input" got invalid value 5 at "input.subject"; String cannot represent a non string value: 5'),
    ).toEqual([
      {
        path: ['input', 'subject'],
        message: 'Variable "$input" got invalid value 5 at "input.subject"; String cannot represent a non string value: 5',
        code: 'INVALID_VALUE',
      },
    ]);
    expect(variableProblems('Variable "$id" of required type "ID!" was not provided.')[0]).toMatchObject({
      path: ['id'],
      code: 'REQUIRED',
    });
  });
});
