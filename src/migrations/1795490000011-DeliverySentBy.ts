import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who sent a delivery by hand (sendMessage), so technicians can read the figures of their own messages. */
export class DeliverySentBy1795490000011 implements MigrationInterface {
  name = 'DeliverySentBy1795490000011';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "delivery" ADD "sentById" uuid`);
    await queryRunner.query(
      `CREATE INDEX "delivery_sent_by_idx" ON "delivery" ("tenantId", "sentById", "createdAt") WHERE "sentById" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."delivery_sent_by_idx"`);
    await queryRunner.query(`ALTER TABLE "delivery" DROP COLUMN "sentById"`);
  }
}
