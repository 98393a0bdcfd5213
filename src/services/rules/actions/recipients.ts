import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { Channel } from '../../../entities/channel';
import type { Contact } from '../../../entities/contact.entity';
import { Role, STAFF_ROLES, User } from '../../../entities/user.entity';
import type { Facts } from '../facts';
import { id, oneOf, whole } from './action';

const contact = z.strictObject({ type: z.literal('contact') }).meta({ description: "The event's contact" });
const requester = z.strictObject({ type: z.literal('requester') }).meta({ description: "The ticket's requester" });
const assignee = z.strictObject({ type: z.literal('assignee') }).meta({ description: "The ticket's assignee" });
const recordOwner = z.strictObject({ type: z.literal('record_owner') }).meta({ description: "The record's owner" });
const ownerManager = z
  .strictObject({ type: z.literal('owner_manager'), levels: whole(1, 5, 'must be 1-5').optional() })
  .meta({ description: "The manager of the record's owner (or the ticket's assignee), `levels` up the hierarchy" });
const role = z
  .strictObject({ type: z.literal('role'), role: oneOf(STAFF_ROLES) })
  .meta({ description: 'Every active user of a staff role' });
const user = z.strictObject({ type: z.literal('user'), userId: id('must be a user id') }).meta({ description: 'A named user' });
const address = z
  .strictObject({
    type: z.literal('address'),
    address: z
      .string({ error: 'must be a phone number, e-mail address or URL' })
      .max(500, { error: 'must be a phone number, e-mail address or URL' })
      .regex(/\S/, { error: 'must be a phone number, e-mail address or URL' }),
  })
  .meta({ description: 'A fixed phone number, e-mail address or URL' });
const whatsappGroup = z
  .strictObject({
    type: z.literal('whatsapp_group'),
    group: z
      .string({ error: 'must be a WhatsApp group id such as 120363025246125486@g.us' })
      .regex(/^[\d-]+@g\.us$/, { error: 'must be a WhatsApp group id such as 120363025246125486@g.us' }),
  })
  .meta({ description: 'A WhatsApp group (gateways that support groups)' });
const eachTechnician = z.strictObject({ type: z.literal('each_technician') }).meta({ description: 'Every active technician' });

const ALL = [
  contact,
  requester,
  assignee,
  recordOwner,
  ownerManager,
  role,
  user,
  address,
  whatsappGroup,
  eachTechnician,
] as const;
const STAFF = [assignee, recordOwner, ownerManager, role, user, eachTechnician] as const;
const typesOf = (options: readonly { shape: { type: z.ZodLiteral<string> } }[]) =>
  options.map((option) => option.shape.type.value).join(', ');

/** Who a message goes to. */
export const recipient = z.discriminatedUnion('type', [...ALL], { error: `must be one of ${typesOf(ALL)}` });
/** Who a staff notification goes to: staff only. */
export const staffRecipient = z.discriminatedUnion('type', [...STAFF], {
  error: `a staff notification goes to ${typesOf(STAFF)}`,
});
export type Recipient = z.infer<typeof recipient>;

export function recipientList<R extends z.ZodType>(of: R) {
  return z.array(of, { error: 'give 1-20 recipients' }).min(1, { error: 'give 1-20 recipients' }).max(20, {
    error: 'give 1-20 recipients',
  });
}

/** Someone (or some address) a message goes to. */
export interface Target {
  key: string;
  label: string;
  contact?: Contact;
  user?: User;
  address?: string;
  group?: boolean;
}

/** Who the recipients are, each once. */
export async function resolveRecipients(
  manager: EntityManager,
  tenantId: string,
  wanted: readonly Recipient[],
  facts: Facts,
): Promise<Target[]> {
  const targets = new Map<string, Target>();
  const addUser = (found: User | null | undefined) =>
    found && found.active && targets.set(`user:${found.id}`, { key: `user:${found.id}`, label: found.name, user: found });
  const userById = (value: unknown) =>
    typeof value === 'string' ? manager.findOneBy(User, { id: value, tenantId }) : Promise.resolve(null);
  for (const wish of wanted) {
    switch (wish.type) {
      case 'contact':
      case 'requester': {
        const person = facts.contact as unknown as Contact | null;
        if (person) targets.set(`contact:${person.id}`, { key: `contact:${person.id}`, label: person.name, contact: person });
        break;
      }
      case 'assignee':
        addUser(await userById(facts.ticket?.assigneeId));
        break;
      case 'record_owner':
        addUser(await userById(facts.record?.ownerId));
        break;
      case 'owner_manager': {
        let found = await userById(facts.record?.ownerId ?? facts.ticket?.assigneeId ?? facts.user?.id);
        for (let level = 0; level < (wish.levels ?? 1) && found; level++) found = await userById(found.managerId);
        addUser(found);
        break;
      }
      case 'role':
        for (const found of await manager.findBy(User, { tenantId, role: wish.role, active: true })) addUser(found);
        break;
      case 'each_technician':
        for (const found of await manager.findBy(User, { tenantId, role: Role.TECHNICIAN, active: true })) addUser(found);
        break;
      case 'user':
        addUser(await userById(wish.userId));
        break;
      case 'address':
        targets.set(`address:${wish.address}`, { key: `address:${wish.address}`, label: wish.address, address: wish.address });
        break;
      case 'whatsapp_group':
        targets.set(`group:${wish.group}`, { key: `group:${wish.group}`, label: wish.group, address: wish.group, group: true });
        break;
    }
  }
  return [...targets.values()];
}

/** Whether the target has an address on the channel (and has not opted out of it). */
export function reachable(target: Target, channel: Channel): boolean {
  if (target.group) return channel === Channel.WHATSAPP;
  if (target.address) {
    const value = target.address;
    if (channel === Channel.EMAIL) return value.includes('@');
    if (channel === Channel.WEBHOOK) return /^https?:\/\//.test(value);
    return /^\+?\d[\d\s-]{5,}$/.test(value);
  }
  const person = target.contact ?? target.user;
  if (!person) return false;
  if (target.contact?.optedOutChannels?.includes(channel)) return false;
  if (channel === Channel.EMAIL) return !!person.email;
  if (channel === Channel.WEBHOOK) return false;
  return !!person.phone;
}
