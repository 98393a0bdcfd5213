import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A ticket's and a completion request's deliveries, and a delivery's resends and fallbacks,
 * are read by those columns (customer notifications, staff lists): partial indexes instead of
 * scanning the tenant's deliveries.
 */
export class DeliverySubjectIndexes1795490000008 implements MigrationInterface {
  name = 'DeliverySubjectIndexes1795490000008';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "delivery_ticket_idx" ON "delivery" ("ticketId") WHERE "ticketId" IS NOT NULL`);
    await queryRunner.query(
      `CREATE INDEX "delivery_completion_request_idx" ON "delivery" ("completionRequestId") WHERE "completionRequestId" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "delivery_parent_idx" ON "delivery" ("parentDeliveryId") WHERE "parentDeliveryId" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."delivery_parent_idx"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_completion_request_idx"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_ticket_idx"`);
  }
}
