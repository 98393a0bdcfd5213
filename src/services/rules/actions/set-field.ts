import { z } from 'zod';
import { BusinessRecord } from '../../../entities/business-record.entity';
import { Contact } from '../../../entities/contact.entity';
import { badInput } from '../../platform/errors';
import { recordEvent } from '../../records/record.service';
import { defineAction } from './action';

/** The fields `set_field` may change besides attributes.<name>. */
export const SETTABLE_FIELDS = { contact: ['area', 'locale', 'timezone'], record: ['status'] } as const;
const ATTRIBUTE = /^attributes\.[A-Za-z_]\w{0,63}$/;

export const setFieldAction = defineAction({
  type: 'set_field',
  summary: "Set a field of the event's contact or record (null clears it)",
  schema: z.strictObject({
    type: z.literal('set_field'),
    target: z.enum(['contact', 'record'], { error: 'must be contact or record' }),
    field: z
      .string({ error: 'must be attributes.<name> or a settable field' })
      .max(80, { error: 'must be attributes.<name> or a settable field' })
      .meta({ description: `attributes.<name>, or for a contact ${SETTABLE_FIELDS.contact.join(', ')}, for a record status` }),
    value: z.unknown().meta({ description: 'Any JSON value; null clears the field' }),
  }),
  check(params, at, _templates, problem) {
    const allowed = SETTABLE_FIELDS[params.target] as readonly string[];
    if (!ATTRIBUTE.test(params.field) && !allowed.includes(params.field))
      problem(`${at}.field`, `must be attributes.<name> or one of ${allowed.join(', ')}`);
  },
  async perform(run, params) {
    const { manager } = run.uow;
    const { field, value } = params;
    const attribute = field.startsWith('attributes.') ? field.slice('attributes.'.length) : null;
    if (params.target === 'contact') {
      const contact = run.facts.contact;
      if (!contact) throw badInput('There is no contact to change');
      if (attribute) {
        await manager.query(
          `UPDATE contact SET attributes = jsonb_set(attributes, $3, $4::jsonb), "updatedAt" = now() WHERE id = $1 AND "tenantId" = $2`,
          [contact.id, run.rule.tenantId, [attribute], JSON.stringify(value)],
        );
      } else await manager.update(Contact, { id: contact.id as string, tenantId: run.rule.tenantId }, { [field]: value });
      return { detail: `contact.${field} set` };
    }
    const record = run.facts.record;
    if (!record) throw badInput('There is no business record to change');
    const row = await manager.findOneOrFail(BusinessRecord, {
      where: { id: record.id as string, tenantId: run.rule.tenantId },
      lock: { mode: 'pessimistic_write' },
    });
    if (attribute) row.attributes = { ...row.attributes, [attribute]: value };
    else if (field === 'status') {
      const status = String(value ?? '')
        .trim()
        .toLowerCase();
      if (!/^[a-z0-9][a-z0-9_.-]{0,49}$/.test(status)) throw badInput(`"${status}" is not a status`);
      if (status !== row.status) {
        const previousStatus = row.status;
        row.status = status;
        row.statusChangedAt = run.services.clock.now();
        await run.uow.record(recordEvent(row, previousStatus, null));
      }
    }
    await manager.save(row);
    return { detail: `record.${field} set` };
  },
});
