import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A delivery can carry one stored file (an invoice PDF, a completion photo). */
export class DeliveryAttachment1795490000010 implements MigrationInterface {
  name = 'DeliveryAttachment1795490000010';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "delivery" ADD "attachment" jsonb`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "delivery" DROP COLUMN "attachment"`);
  }
}
