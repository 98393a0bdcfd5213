import { z } from 'zod';
import { badInput } from '../../platform/errors';
import { defineAction, text } from './action';

export const addTagAction = defineAction({
  type: 'add_tag',
  summary: "Tag the event's contact (or record: its attributes.tags), once",
  schema: z.strictObject({
    type: z.literal('add_tag'),
    tag: text(50),
    target: z.enum(['contact', 'record'], { error: 'must be contact (the default) or record' }).optional(),
  }),
  async perform(run, params) {
    const { manager } = run.uow;
    const tag = params.tag.trim().toLowerCase();
    if (params.target === 'record') {
      // A record's tags live in its attributes (attributes.tags), where rules and audiences read them.
      const recordId = run.facts.record?.id as string | undefined;
      if (!recordId) throw badInput('There is no business record to tag');
      await manager.query(
        `UPDATE business_record
            SET attributes = jsonb_set(attributes, '{tags}', COALESCE(attributes->'tags', '[]'::jsonb) || to_jsonb($3::text)), "updatedAt" = now()
          WHERE id = $1 AND "tenantId" = $2 AND NOT (COALESCE(attributes->'tags', '[]'::jsonb) ? $3)`,
        [recordId, run.rule.tenantId, tag],
      );
      return { detail: `Record tagged ${tag}` };
    }
    const contactId = run.facts.contact?.id as string | undefined;
    if (!contactId) throw badInput('There is no contact to tag');
    await manager.query(
      `UPDATE contact SET tags = array_append(tags, $3::text), "updatedAt" = now() WHERE id = $1 AND "tenantId" = $2 AND NOT ($3 = ANY(tags))`,
      [contactId, run.rule.tenantId, tag],
    );
    return { detail: `Tagged ${tag}` };
  },
});
