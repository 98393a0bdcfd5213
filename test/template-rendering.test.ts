import { renderTemplate, templateVariables } from '../src/services/delivery/template-rendering';
import { DomainError } from '../src/services/platform/errors';

describe('renderTemplate', () => {
  it('fills placeholders, including dotted paths', () => {
    expect(
      renderTemplate('Hi {{ contact.name }}, ticket {{ticket}} is {{status}}.', {
        contact: { name: 'Ana' },
        ticket: 'T-000042',
        status: 'resolved',
      }),
    ).toBe('Hi Ana, ticket T-000042 is resolved.');
  });

  it('refuses a missing variable, naming each one', () => {
    expect(() => renderTemplate('{{a}} {{b.c}} {{d}}', { d: 0 })).toThrow(DomainError);
    expect(() => renderTemplate('{{a}} {{b.c}} {{d}}', { d: 0 })).toThrow('The template needs values for: a, b.c');
  });

  it('uses a placeholder’s fallback when its value is missing or empty', () => {
    expect(renderTemplate('Area: {{ contact.area | not given }}, {{x|-}}', { contact: { area: null }, x: '' })).toBe(
      'Area: not given, -',
    );
    expect(renderTemplate('Area: {{ contact.area | not given }}', { contact: { area: 'Bandung' } })).toBe('Area: Bandung');
    expect(templateVariables('{{a | b}} {{c}}')).toEqual(['a', 'c']);
  });

  it('lists the variables a template uses once each', () => {
    expect(templateVariables('{{a}} {{ a }} {{b.c}}')).toEqual(['a', 'b.c']);
  });
});
