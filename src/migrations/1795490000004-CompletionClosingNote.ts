import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Support's note on closing a completion request gets its own staff-only column: it was
 * stored as the customer's `responseComment`, which customers read as their own words.
 * Notes already there (requests staff closed, which have no customer answer) move over.
 */
export class CompletionClosingNote1795490000004 implements MigrationInterface {
  name = 'CompletionClosingNote1795490000004';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "completion_request" ADD "closingNote" text`);
    await queryRunner.query(
      `UPDATE completion_request SET "closingNote" = "responseComment", "responseComment" = NULL
        WHERE status IN ('unreachable', 'cancelled') AND "respondedVia" IS NULL AND "responseComment" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE completion_request SET "responseComment" = "closingNote" WHERE "closingNote" IS NOT NULL AND "responseComment" IS NULL`,
    );
    await queryRunner.query(`ALTER TABLE "completion_request" DROP COLUMN "closingNote"`);
  }
}
