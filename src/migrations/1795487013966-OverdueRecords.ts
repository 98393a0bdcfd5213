import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Overdue work of any kind: an escalation is about a ticket or a business record (exactly
 * one), records keep the level they reached, and a policy may name the record kind it
 * escalates.
 */
export class OverdueRecords1795487013966 implements MigrationInterface {
  name = 'OverdueRecords1795487013966';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "escalation_policy" ADD "recordKind" character varying(50)`);
    await queryRunner.query(`ALTER TABLE "business_record" ADD "escalationLevel" smallint NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "escalation" ADD "recordId" uuid`);
    await queryRunner.query(`ALTER TABLE "escalation" ALTER COLUMN "ticketId" DROP NOT NULL`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "escalation_record_level_recipient_key" ON "escalation" ("recordId", "level", "recipientId") WHERE "manual" = false AND "recordId" IS NOT NULL`,
    );
    // Closing a record's escalations and the cascade from a deleted record look them up by record.
    await queryRunner.query(`CREATE INDEX "escalation_record_idx" ON "escalation" ("recordId") WHERE "recordId" IS NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE "escalation" ADD CONSTRAINT "escalation_one_subject" CHECK (("ticketId" IS NULL) <> ("recordId" IS NULL))`,
    );
    await queryRunner.query(
      `ALTER TABLE "escalation" ADD CONSTRAINT "FK_7fcd16b937259b71a6fe16aa8ee" FOREIGN KEY ("recordId") REFERENCES "business_record"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "escalation" WHERE "recordId" IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "escalation" DROP CONSTRAINT "FK_7fcd16b937259b71a6fe16aa8ee"`);
    await queryRunner.query(`ALTER TABLE "escalation" DROP CONSTRAINT "escalation_one_subject"`);
    await queryRunner.query(`DROP INDEX "public"."escalation_record_level_recipient_key"`);
    await queryRunner.query(`DROP INDEX "public"."escalation_record_idx"`);
    await queryRunner.query(`ALTER TABLE "escalation" ALTER COLUMN "ticketId" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "escalation" DROP COLUMN "recordId"`);
    await queryRunner.query(`ALTER TABLE "business_record" DROP COLUMN "escalationLevel"`);
    await queryRunner.query(`ALTER TABLE "escalation_policy" DROP COLUMN "recordKind"`);
  }
}
