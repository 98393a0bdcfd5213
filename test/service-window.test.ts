import { ProviderKind } from '../src/entities/channel';
import { SERVICE_WINDOW_MS, enforcesWindow, whatsappForm, windowClosesAt } from '../src/services/delivery/service-window';

const now = new Date('2026-12-07T10:00:00Z');
const meta = { kind: ProviderKind.META_WHATSAPP, settings: { phoneNumberId: '1' } };
const unseen = { kind: ProviderKind.META_WHATSAPP, settings: { phoneNumberId: '2', serviceWindow: false } };
const fonnte = { kind: ProviderKind.FONNTE, settings: {} };
const open = new Date(now.getTime() + 60_000);
const closed = new Date(now.getTime() - 60_000);

describe('the WhatsApp form a provider carries a message in', () => {
  it('is free text inside the window, even when the message has a template (cheaper, and what replies need)', () => {
    expect(whatsappForm(meta, open, now, true)).toBe('text');
    expect(whatsappForm(meta, open, now, false)).toBe('text');
  });

  it('is the approved template outside the window, or nothing without one', () => {
    expect(whatsappForm(meta, closed, now, true)).toBe('template');
    expect(whatsappForm(meta, undefined, now, true)).toBe('template');
    expect(whatsappForm(meta, closed, now, false)).toBe('none');
    expect(whatsappForm(meta, undefined, now, false)).toBe('none');
    // The window closes at its closing time, not a moment after.
    expect(whatsappForm(meta, now, now, false)).toBe('none');
  });

  it('is always free text on a gateway, which sends as a phone does', () => {
    expect(whatsappForm(fonnte, undefined, now, true)).toBe('text');
    expect(whatsappForm(fonnte, closed, now, false)).toBe('text');
    expect(enforcesWindow(fonnte)).toBe(false);
  });

  it('is the template where one exists, else free text, on a Meta number whose window the product cannot see', () => {
    expect(enforcesWindow(unseen)).toBe(false);
    expect(whatsappForm(unseen, undefined, now, true)).toBe('template');
    expect(whatsappForm(unseen, undefined, now, false)).toBe('text');
    expect(whatsappForm(unseen, open, now, true)).toBe('template');
  });

  it('opens for 24 hours from the customer’s message', () => {
    const wrote = new Date('2026-12-06T08:30:00Z');
    expect(windowClosesAt(wrote).toISOString()).toBe('2026-12-07T08:30:00.000Z');
    expect(SERVICE_WINDOW_MS).toBe(86_400_000);
  });
});
