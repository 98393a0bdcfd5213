import { MigrationInterface, QueryRunner } from 'typeorm';

export class TicketOperations1795471148918 implements MigrationInterface {
  name = 'TicketOperations1795471148918';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tenant" ADD "ticketAutoCloseDays" integer NOT NULL DEFAULT '7'`);
    await queryRunner.query(`ALTER TABLE "ticket" ADD "tags" text array NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "ticket" ADD "resolutionType" character varying(30)`);
    await queryRunner.query(`ALTER TABLE "ticket" ADD "resolutionSummary" text`);
    await queryRunner.query(`ALTER TABLE "ticket" ADD "resolutionNotes" text`);
    await queryRunner.query(`CREATE INDEX "ticket_resolved_at_idx" ON "ticket"  ("resolvedAt") WHERE status = 'resolved'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ticket_resolved_at_idx"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP COLUMN "resolutionNotes"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP COLUMN "resolutionSummary"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP COLUMN "resolutionType"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP COLUMN "tags"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "ticketAutoCloseDays"`);
  }
}
