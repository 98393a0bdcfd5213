import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An index for pruning skipped rule executions, and the provider-message index without
 * its NULLs (every queued delivery had an entry it never needed).
 */
export class LeanerIndexes1795478531590 implements MigrationInterface {
  name = 'LeanerIndexes1795478531590';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "rule_execution_skipped_idx" ON "rule_execution"  ("finishedAt") WHERE status = 'skipped'`,
    );
    await queryRunner.query(`DROP INDEX "public"."delivery_provider_message_idx"`);
    await queryRunner.query(
      `CREATE INDEX "delivery_provider_message_idx" ON "delivery"  ("providerMessageId") WHERE "providerMessageId" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."delivery_provider_message_idx"`);
    await queryRunner.query(`CREATE INDEX "delivery_provider_message_idx" ON "delivery"  ("providerMessageId") `);
    await queryRunner.query(`DROP INDEX "public"."rule_execution_skipped_idx"`);
  }
}
