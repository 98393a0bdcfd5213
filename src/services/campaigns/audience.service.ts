import type { DataSource, EntityManager } from 'typeorm';
import type { CampaignAudience } from '../../entities/campaign.entity';
import { Contact } from '../../entities/contact.entity';
import { Segment } from '../../entities/segment.entity';
import type { StaffPrincipal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, conflict, notFound } from '../platform/errors';
import { isUuid } from '../platform/ids';
import { type Page, type PageRequest, newestFirstPage } from '../platform/pagination';
import { AudienceSql } from '../rules/condition-sql';
import { AUDIENCE_SCHEMA, type Condition, checkCondition } from '../rules/conditions';

export interface SegmentInput {
  name: string;
  description?: string | null;
  filter: Record<string, unknown>;
}

export interface AudienceEstimate {
  count: number;
  sample: Contact[];
}

export const MAX_AUDIENCE_CONTACT_IDS = 10_000;
export const MAX_WHATSAPP_GROUPS = 100;

/**
 * Segments (saved audience filters) and audiences: the rules' condition language over
 * contacts, compiled to one SQL predicate (AudienceSql), so counting or walking 1M
 * contacts is PostgreSQL's work, never a scan in Node.
 */
export class AudienceService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  list(actor: StaffPrincipal, page: PageRequest): Promise<Page<Segment>> {
    const query = this.dataSource
      .getRepository(Segment)
      .createQueryBuilder('s')
      .where('s."tenantId" = :tenantId', { tenantId: actor.tenantId });
    return newestFirstPage(query, 's', page);
  }

  async get(actor: StaffPrincipal, id: string, manager: EntityManager = this.dataSource.manager): Promise<Segment> {
    const segment = isUuid(id) ? await manager.findOneBy(Segment, { id, tenantId: actor.tenantId }) : null;
    if (!segment) throw notFound('Segment', id);
    return segment;
  }

  async create(actor: StaffPrincipal, input: SegmentInput): Promise<Segment> {
    this.checkFilter(input.filter, 'filter');
    await this.assertNameFree(actor.tenantId, input.name);
    return this.dataSource.getRepository(Segment).save({
      tenantId: actor.tenantId,
      name: input.name,
      description: input.description ?? null,
      filter: input.filter,
      createdById: actor.userId,
    });
  }

  async update(actor: StaffPrincipal, id: string, input: SegmentInput): Promise<Segment> {
    const segment = await this.get(actor, id);
    this.checkFilter(input.filter, 'filter');
    if (input.name !== segment.name) await this.assertNameFree(actor.tenantId, input.name);
    Object.assign(segment, { name: input.name, description: input.description ?? null, filter: input.filter });
    return this.dataSource.getRepository(Segment).save(segment);
  }

  async delete(actor: StaffPrincipal, id: string): Promise<boolean> {
    const segment = await this.get(actor, id);
    const [{ used }] = (await this.dataSource.query(
      `SELECT count(*)::int AS used FROM campaign
        WHERE "tenantId" = $1 AND audience->>'segmentId' = $2 AND status NOT IN ('completed', 'cancelled')`,
      [actor.tenantId, segment.id],
    )) as Array<{ used: number }>;
    if (used) throw conflict(`${used} campaign(s) not yet finished send to this segment; change their audience first`);
    await this.dataSource.getRepository(Segment).delete({ id: segment.id });
    return true;
  }

  /** How many contacts an audience reaches now, and a few of them. */
  async estimate(actor: StaffPrincipal, audience: CampaignAudience, sampleSize = 10): Promise<AudienceEstimate> {
    this.checkAudience(audience);
    const { sql, params } = await this.predicate(this.dataSource.manager, actor.tenantId, audience);
    const [{ count }] = (await this.dataSource.query(
      `SELECT count(*)::int AS count FROM contact c WHERE ${sql}`,
      params,
    )) as Array<{ count: number }>;
    const rows = (await this.dataSource.query(
      `SELECT c.* FROM contact c WHERE ${sql} ORDER BY c."createdAt" DESC, c.id LIMIT ${Math.min(Math.max(Math.floor(sampleSize), 0), 50)}`,
      params,
    )) as Array<Record<string, unknown>>;
    const sample = rows.map((row) => this.dataSource.manager.create(Contact, row as Partial<Contact>));
    return { count: count + (audience.whatsappGroups?.length ?? 0), sample };
  }

  /**
   * The SQL predicate (over `contact c`) for the audience's contacts in this tenant, with
   * its parameters; $1 is the tenant id. WhatsApp groups are not contacts: the caller
   * adds them.
   */
  async predicate(
    manager: EntityManager,
    tenantId: string,
    audience: CampaignAudience,
  ): Promise<{ sql: string; params: unknown[] }> {
    const compiler = new AudienceSql(this.clock.now(), [tenantId]);
    const parts = ['c."tenantId" = $1'];
    let filter = audience.filter ?? null;
    if (audience.segmentId) {
      const segment = isUuid(audience.segmentId) ? await manager.findOneBy(Segment, { id: audience.segmentId, tenantId }) : null;
      if (!segment) throw notFound('Segment', audience.segmentId);
      filter = segment.filter;
    }
    if (filter) parts.push(compiler.where(filter as Condition));
    if (audience.contactIds) parts.push(`c.id = ANY(${this.bindIds(compiler, audience.contactIds)})`);
    else if (!filter) parts.push(audience.whatsappGroups?.length ? 'FALSE' : 'TRUE');
    return { sql: parts.join(' AND '), params: compiler.params };
  }

  private bindIds(compiler: AudienceSql, ids: string[]): string {
    compiler.params.push(ids);
    return `$${compiler.params.length}::uuid[]`;
  }

  /** Refuses an audience that names nothing, or a filter, id or group that is not sound, naming the place. */
  checkAudience(audience: CampaignAudience, at = 'audience'): void {
    const named = ['segmentId', 'filter', 'contactIds', 'whatsappGroups'].filter(
      (key) => (audience as Record<string, unknown>)[key] != null,
    );
    if (!named.length) throw badInput('Name a segmentId, a filter, contactIds or whatsappGroups', at);
    if (audience.segmentId != null && !isUuid(audience.segmentId))
      throw badInput(`Not a segment id: "${String(audience.segmentId).slice(0, 60)}"`, `${at}.segmentId`);
    if (audience.segmentId && audience.filter) throw badInput('Give a segmentId or a filter, not both', at);
    if (audience.filter) this.checkFilter(audience.filter, `${at}.filter`);
    if (audience.contactIds) {
      if (!Array.isArray(audience.contactIds) || audience.contactIds.length > MAX_AUDIENCE_CONTACT_IDS)
        throw badInput(`contactIds holds at most ${MAX_AUDIENCE_CONTACT_IDS} ids`, `${at}.contactIds`);
      const bad = audience.contactIds.findIndex((id) => !isUuid(id));
      if (bad >= 0) throw badInput(`Not a contact id: ${String(audience.contactIds[bad])}`, `${at}.contactIds[${bad}]`);
    }
    if (audience.whatsappGroups) {
      if (!Array.isArray(audience.whatsappGroups) || audience.whatsappGroups.length > MAX_WHATSAPP_GROUPS)
        throw badInput(`whatsappGroups holds at most ${MAX_WHATSAPP_GROUPS} groups`, `${at}.whatsappGroups`);
      const bad = audience.whatsappGroups.findIndex((group) => typeof group !== 'string' || !/^[\d-]{6,40}@g\.us$/.test(group));
      if (bad >= 0) throw badInput('A WhatsApp group id looks like 120363025246125486@g.us', `${at}.whatsappGroups[${bad}]`);
    }
  }

  private checkFilter(filter: unknown, at: string): void {
    const problems = checkCondition(filter, AUDIENCE_SCHEMA, at);
    if (problems.length) {
      throw new DomainError(ErrorCode.BadUserInput, `${problems[0].path}: ${problems[0].problem}`, { problems });
    }
  }

  private async assertNameFree(tenantId: string, name: string): Promise<void> {
    if (await this.dataSource.getRepository(Segment).existsBy({ tenantId, name })) {
      throw conflict(`A segment named "${name}" exists already`);
    }
  }
}
