import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A provider's report (sent, delivered, read, failed) appears once in a delivery's history:
 * redelivered webhooks used to repeat it. Existing repeats are removed, the first kept.
 */
export class DeliveryReportsOnce1795400000001 implements MigrationInterface {
  name = 'DeliveryReportsOnce1795400000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DELETE FROM delivery_event later USING delivery_event first
       WHERE later."deliveryId" = first."deliveryId" AND later.type = first.type AND later.id > first.id
         AND later.type IN ('sent', 'delivered', 'read', 'failed')`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "delivery_event_provider_report_key" ON "delivery_event" ("deliveryId", "type") WHERE "type" IN ('sent', 'delivered', 'read', 'failed')`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."delivery_event_provider_report_key"`);
  }
}
