import { MigrationInterface, QueryRunner } from 'typeorm';

export class AutomationRules1795468462525 implements MigrationInterface {
  name = 'AutomationRules1795468462525';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "automation_rule" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "name" character varying(200) NOT NULL, "description" text, "active" boolean NOT NULL DEFAULT true, "triggerType" character varying(20) NOT NULL, "eventTypes" text array NOT NULL DEFAULT '{}', "dateTrigger" jsonb, "cron" character varying(100), "cronTimezone" character varying(64), "conditions" jsonb, "delay" jsonb, "actions" jsonb NOT NULL, "stopOnFailure" boolean NOT NULL DEFAULT false, "validFrom" TIMESTAMP WITH TIME ZONE, "validUntil" TIMESTAMP WITH TIME ZONE, "maxExecutions" integer, "maxExecutionsPerSubject" integer, "cooldownMinutes" integer, "priority" integer NOT NULL DEFAULT '0', "builtIn" character varying(100), "executionCount" integer NOT NULL DEFAULT '0', "successCount" integer NOT NULL DEFAULT '0', "failureCount" integer NOT NULL DEFAULT '0', "lastExecutedAt" TIMESTAMP WITH TIME ZONE, "createdById" uuid, "updatedById" uuid, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_d14a83a866da7ebbc991d3b2e9c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "automation_rule_event_idx" ON "automation_rule"  ("tenantId", "triggerType", "active") `,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "automation_rule_tenant_name_key" ON "automation_rule"  ("tenantId", "name") `);
    await queryRunner.query(
      `CREATE TABLE "rule_execution" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "ruleId" uuid, "ruleName" character varying(200) NOT NULL, "trigger" character varying(20) NOT NULL, "eventType" character varying(100), "eventId" bigint, "dedupeKey" character varying(300) NOT NULL, "subjectType" character varying(50), "subjectId" uuid, "subjectKey" character varying(100), "status" character varying(20) NOT NULL, "reason" text, "context" jsonb NOT NULL DEFAULT '{}', "depth" smallint NOT NULL DEFAULT '0', "runAt" TIMESTAMP WITH TIME ZONE, "actionOutcomes" jsonb NOT NULL DEFAULT '[]', "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "finishedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_cf182d8255994e9b13d15fc35c6" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "rule_execution_due_idx" ON "rule_execution"  ("runAt") WHERE status = 'delayed'`);
    await queryRunner.query(
      `CREATE INDEX "rule_execution_subject_idx" ON "rule_execution"  ("ruleId", "subjectKey", "createdAt") `,
    );
    await queryRunner.query(`CREATE INDEX "rule_execution_tenant_created_idx" ON "rule_execution"  ("tenantId", "createdAt") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "rule_execution_dedupe_key" ON "rule_execution"  ("ruleId", "dedupeKey") `);
    await queryRunner.query(`ALTER TABLE "domain_event" ADD "depth" smallint NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "domain_event" ADD "causationId" uuid`);
    await queryRunner.query(
      `ALTER TABLE "automation_rule" ADD CONSTRAINT "FK_1e512d39d337e66608bf0874b4f" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "rule_execution" ADD CONSTRAINT "FK_a69f3049dd54f5a55cd7c1875d0" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "rule_execution" ADD CONSTRAINT "FK_f0937fe486cd98463e29f5bb68d" FOREIGN KEY ("ruleId") REFERENCES "automation_rule"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rule_execution" DROP CONSTRAINT "FK_f0937fe486cd98463e29f5bb68d"`);
    await queryRunner.query(`ALTER TABLE "rule_execution" DROP CONSTRAINT "FK_a69f3049dd54f5a55cd7c1875d0"`);
    await queryRunner.query(`ALTER TABLE "automation_rule" DROP CONSTRAINT "FK_1e512d39d337e66608bf0874b4f"`);
    await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "causationId"`);
    await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "depth"`);
    await queryRunner.query(`DROP INDEX "public"."rule_execution_dedupe_key"`);
    await queryRunner.query(`DROP INDEX "public"."rule_execution_tenant_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."rule_execution_subject_idx"`);
    await queryRunner.query(`DROP INDEX "public"."rule_execution_due_idx"`);
    await queryRunner.query(`DROP TABLE "rule_execution"`);
    await queryRunner.query(`DROP INDEX "public"."automation_rule_tenant_name_key"`);
    await queryRunner.query(`DROP INDEX "public"."automation_rule_event_idx"`);
    await queryRunner.query(`DROP TABLE "automation_rule"`);
  }
}
