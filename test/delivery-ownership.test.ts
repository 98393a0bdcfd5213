import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.join(__dirname, '..', 'src');
/** The delivery ledger's owner; migrations shape the tables, they do not write deliveries. */
const OWNER = path.join(SRC, 'services', 'delivery');
const MIGRATIONS = path.join(SRC, 'migrations');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return file === OWNER || file === MIGRATIONS ? [] : sources(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

/** SQL that writes the tables, and TypeORM calls that write their entities. */
const WRITES = [
  /\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?(delivery|delivery_event)"?(\s|\(|$)/i,
  /\.(update|insert|delete|save|upsert|softDelete|increment|decrement)\(\s*(Delivery|DeliveryEvent)\b/,
  /getRepository\(\s*(Delivery|DeliveryEvent)\s*\)\s*\.\s*(update|insert|delete|save|upsert|remove|increment|decrement)\b/,
  /\.into\(\s*(Delivery|DeliveryEvent)\s*\)/,
];

describe('the delivery ledger’s one owner', () => {
  it('is services/delivery: no other file writes the delivery or delivery_event tables', () => {
    const offenders = sources(SRC).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, index) =>
          WRITES.some((pattern) => pattern.test(line)) ? [`${path.relative(SRC, file)}:${index + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(offenders).toEqual([]);
  });

  it('would notice a write (the check itself works)', () => {
    const samples = [
      "UPDATE delivery SET status = 'cancelled'",
      'INSERT INTO delivery (id, "tenantId")',
      'INSERT INTO delivery_event ("tenantId")',
      'manager.update(Delivery, { id }, { status })',
      'dataSource.getRepository(Delivery).save(row)',
      'createQueryBuilder().insert().into(DeliveryEvent)',
    ];
    for (const sample of samples) expect([sample, WRITES.some((pattern) => pattern.test(sample))]).toEqual([sample, true]);
    for (const reading of [
      'FROM delivery d',
      'JOIN delivery d ON d.id = r."deliveryId"',
      'getRepository(Delivery).findBy({ id })',
    ]) {
      expect([reading, WRITES.some((pattern) => pattern.test(reading))]).toEqual([reading, false]);
    }
  });
});
