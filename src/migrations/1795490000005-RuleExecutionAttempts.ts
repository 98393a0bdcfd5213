import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A failed rule execution can be run again (its failed actions only): how often it ran, and when last. */
export class RuleExecutionAttempts1795490000005 implements MigrationInterface {
  name = 'RuleExecutionAttempts1795490000005';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rule_execution" ADD "attempts" smallint NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE "rule_execution" ADD "retriedAt" TIMESTAMP WITH TIME ZONE`);
    // The bulk retry finds a rule's failed executions in a period without reading its skipped ones.
    await queryRunner.query(
      `CREATE INDEX "rule_execution_failed_idx" ON "rule_execution" ("ruleId", "createdAt") WHERE status = 'failed'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "rule_execution_failed_idx"`);
    await queryRunner.query(`ALTER TABLE "rule_execution" DROP COLUMN "retriedAt"`);
    await queryRunner.query(`ALTER TABLE "rule_execution" DROP COLUMN "attempts"`);
  }
}
