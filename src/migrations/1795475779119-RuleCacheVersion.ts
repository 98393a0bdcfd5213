import { MigrationInterface, QueryRunner } from 'typeorm';

/** tenant.rulesVersion, bumped by a trigger on every change to a rule's definition (not its counters). */
export class RuleCacheVersion1795475779119 implements MigrationInterface {
  name = 'RuleCacheVersion1795475779119';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tenant" ADD "rulesVersion" bigint NOT NULL DEFAULT '0'`);
    await queryRunner.query(`
      CREATE FUNCTION automation_rule_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE tenant SET "rulesVersion" = "rulesVersion" + 1
         WHERE id IN (SELECT "tenantId" FROM (SELECT NEW."tenantId" UNION SELECT OLD."tenantId") AS t("tenantId") WHERE "tenantId" IS NOT NULL);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER automation_rule_version
      AFTER INSERT OR DELETE OR UPDATE OF "tenantId", name, active, "triggerType", "eventTypes", "dateTrigger", cron,
        "cronTimezone", conditions, delay, actions, "stopOnFailure", "validFrom", "validUntil", "maxExecutions",
        "maxExecutionsPerSubject", "cooldownMinutes", priority, "builtIn"
      ON automation_rule FOR EACH ROW EXECUTE FUNCTION automation_rule_bump_version()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER automation_rule_version ON automation_rule`);
    await queryRunner.query(`DROP FUNCTION automation_rule_bump_version()`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "rulesVersion"`);
  }
}
