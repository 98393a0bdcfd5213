import {
  type Comparison,
  type Condition,
  type FieldType,
  AUDIENCE_SCHEMA,
  RECORD_SCHEMA,
  durationMs,
  fieldType,
} from './conditions';

/**
 * Compiles an audience condition (checked against AUDIENCE_SCHEMA) to one SQL predicate
 * over `contact c`, with `someRecord` groups as EXISTS over the contact's business
 * records, so an audience is counted and listed by PostgreSQL with its indexes, never
 * by loading contacts into Node. Every value is a bind parameter.
 *
 * It means what `evaluate` means for the same facts: text compares ignoring case, a
 * missing value fails every comparison but `neq`, `not_in`, `not_contains` and
 * `not_exists` (each comparison is COALESCEd to false before any NOT applies).
 */
export class AudienceSql {
  readonly params: unknown[];

  constructor(
    private readonly now: Date,
    firstParams: unknown[] = [],
  ) {
    this.params = [...firstParams];
  }

  /** The predicate; null holds for every contact. */
  where(condition: Condition | null | undefined): string {
    return condition ? this.node(condition, 'contact') : 'TRUE';
  }

  private bind(value: unknown, cast: string): string {
    this.params.push(value);
    return `$${this.params.length}::${cast}`;
  }

  private node(condition: Condition, scope: 'contact' | 'record'): string {
    if ('all' in condition) return `(${condition.all.map((member) => this.node(member, scope)).join(' AND ')})`;
    if ('any' in condition) return `(${condition.any.map((member) => this.node(member, scope)).join(' OR ')})`;
    if ('not' in condition) return `(NOT ${this.node(condition.not, scope)})`;
    if ('someRecord' in condition) {
      return `EXISTS (SELECT 1 FROM business_record r WHERE r."tenantId" = c."tenantId" AND r."contactId" = c.id AND ${this.node(
        condition.someRecord,
        'record',
      )})`;
    }
    return `COALESCE(${this.comparison(condition, scope)}, false)`;
  }

  private comparison(comparison: Comparison, scope: 'contact' | 'record'): string {
    const schema = scope === 'contact' ? AUDIENCE_SCHEMA : RECORD_SCHEMA;
    const type = fieldType(schema, comparison.path);
    const [root, field, ...rest] = comparison.path.split('.');
    if (!type || root !== scope) throw new Error(`Unchecked audience path ${comparison.path}`);
    const alias = scope === 'contact' ? 'c' : 'r';
    if (field === 'attributes') return this.json(`${alias}.attributes #> ${this.bind(rest, 'text[]')}`, comparison);
    if (field === 'consent')
      return this.typed(`(c.consent -> ${this.bind(rest[0], 'text')} ->> 'granted')::boolean`, 'boolean', comparison);
    const column = `${alias}."${field.replace(/"/g, '')}"`;
    if (field === 'birthday' || field === 'anniversary')
      return this.typed(`to_char(${column}, 'YYYY-MM-DD')`, 'string', comparison);
    if (field === 'id') return this.typed(`${column}::text`, 'string', comparison);
    return this.typed(column, type, comparison);
  }

  /** A column of a known type. */
  private typed(column: string, type: FieldType, { op, value }: Comparison): string {
    const text = (v: unknown) => this.bind(String(v).toLowerCase(), 'text');
    if (type === 'strings') {
      switch (op) {
        case 'contains':
          return `${column} @> ARRAY[${text(value)}]`;
        case 'not_contains':
          return `NOT (${column} @> ARRAY[${text(value)}])`;
        case 'exists':
          return `cardinality(${column}) > 0`;
        case 'not_exists':
          return `cardinality(${column}) = 0`;
        default:
          throw new Error(`Unchecked operator ${op} on a list`);
      }
    }
    const cast = type === 'number' ? 'numeric' : type === 'date' ? 'timestamptz' : type === 'boolean' ? 'boolean' : 'text';
    const subject = type === 'string' ? `lower(${column})` : column;
    const operand = (v: unknown) => (type === 'string' ? text(v) : this.bind(v, cast));
    switch (op) {
      case 'eq':
        return `${subject} = ${operand(value)}`;
      case 'neq':
        return `${subject} IS DISTINCT FROM ${operand(value)}`;
      case 'contains':
        return `strpos(${subject}, ${text(value)}) > 0`;
      case 'not_contains':
        return `(${column} IS NULL OR strpos(${subject}, ${text(value)}) = 0)`;
      case 'starts_with':
        return `starts_with(${subject}, ${text(value)})`;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return `${column} ${{ gt: '>', gte: '>=', lt: '<', lte: '<=' }[op]} ${this.bind(value, cast)}`;
      case 'in':
        return `${subject} = ANY(${this.bind(
          (value as unknown[]).map((v) => (type === 'string' ? String(v).toLowerCase() : v)),
          `${cast}[]`,
        )})`;
      case 'not_in':
        return `(${column} IS NULL OR NOT (${subject} = ANY(${this.bind(
          (value as unknown[]).map((v) => (type === 'string' ? String(v).toLowerCase() : v)),
          `${cast}[]`,
        )})))`;
      case 'exists':
        return type === 'string' ? `(${column} IS NOT NULL AND ${column} <> '')` : `${column} IS NOT NULL`;
      case 'not_exists':
        return type === 'string' ? `(${column} IS NULL OR ${column} = '')` : `${column} IS NULL`;
      case 'within_last':
      case 'within_next':
      case 'older_than':
        return this.window(column, op, String(value));
    }
  }

  /** A free-form JSON value (attributes.*), compared the way `evaluate` compares plain JSON. */
  private json(value: string, { op, value: expected }: Comparison): string {
    const text = `(${value} #>> '{}')`;
    const numeric = `(CASE WHEN jsonb_typeof(${value}) = 'number' OR ${text} ~ '^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$' THEN ${text}::numeric END)`;
    const isNumber = typeof expected === 'number';
    const scalar = (v: unknown) =>
      typeof v === 'number'
        ? `${numeric} = ${this.bind(v, 'numeric')}`
        : typeof v === 'boolean'
          ? `${value} = to_jsonb(${this.bind(v, 'boolean')})`
          : `lower(${text}) = ${this.bind(String(v).toLowerCase(), 'text')}`;
    const arrayHas = (v: unknown) =>
      `(jsonb_typeof(${value}) = 'array' AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(${value}) e WHERE lower(e) = ${this.bind(
        String(v).toLowerCase(),
        'text',
      )}))`;
    const containsText = (v: unknown) =>
      `(jsonb_typeof(${value}) = 'string' AND strpos(lower(${text}), ${this.bind(String(v).toLowerCase(), 'text')}) > 0)`;
    const present = `(${value} IS NOT NULL AND jsonb_typeof(${value}) <> 'null' AND ${value} NOT IN ('""'::jsonb, '[]'::jsonb))`;
    switch (op) {
      case 'eq':
        return scalar(expected);
      case 'neq':
        return `NOT COALESCE(${scalar(expected)}, false)`;
      case 'contains':
        return `(${arrayHas(expected)} OR ${containsText(expected)})`;
      case 'not_contains':
        return `NOT COALESCE(${arrayHas(expected)} OR ${containsText(expected)}, false)`;
      case 'starts_with':
        return `(jsonb_typeof(${value}) = 'string' AND starts_with(lower(${text}), ${this.bind(String(expected).toLowerCase(), 'text')}))`;
      case 'in':
        return `(${(expected as unknown[]).map(scalar).join(' OR ')})`;
      case 'not_in':
        return `NOT COALESCE(${(expected as unknown[]).map(scalar).join(' OR ')}, false)`;
      case 'exists':
        return present;
      case 'not_exists':
        return `NOT ${present}`;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        const sign = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
        return isNumber
          ? `${numeric} ${sign} ${this.bind(expected, 'numeric')}`
          : `${this.jsonTime(text)} ${sign} ${this.bind(expected, 'timestamptz')}`;
      }
      case 'within_last':
      case 'within_next':
      case 'older_than':
        return this.window(this.jsonTime(text), op, String(expected));
    }
  }

  private jsonTime(text: string): string {
    return `(CASE WHEN ${text} ~ '^\\d{4}-\\d{2}-\\d{2}' THEN ${text}::timestamptz END)`;
  }

  private window(column: string, op: 'within_last' | 'within_next' | 'older_than', duration: string): string {
    const now = this.now.getTime();
    const span = durationMs(duration);
    const at = (ms: number) => this.bind(new Date(ms).toISOString(), 'timestamptz');
    if (op === 'within_last') return `(${column} >= ${at(now - span)} AND ${column} <= ${at(now)})`;
    if (op === 'within_next') return `(${column} >= ${at(now)} AND ${column} <= ${at(now + span)})`;
    return `${column} < ${at(now - span)}`;
  }
}
