import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SlaEscalations1795324570621 implements MigrationInterface {
  name = 'SlaEscalations1795324570621';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "sla_policy" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "priority" "public"."ticket_priority" NOT NULL, "firstResponseMinutes" integer NOT NULL, "resolutionMinutes" integer NOT NULL, "warningLeadMinutes" integer NOT NULL, "businessHours" jsonb, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_19c1aa9dd53b9fc80648ae034b4" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "sla_policy_tenant_priority_key" ON "sla_policy"  ("tenantId", "priority") `);
    await queryRunner.query(
      `CREATE TABLE "escalation_policy" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "name" character varying(100) NOT NULL, "category" "public"."ticket_category", "priority" "public"."ticket_priority", "levels" jsonb NOT NULL, "criticalAfterMinutes" integer NOT NULL DEFAULT '1440', "active" boolean NOT NULL DEFAULT true, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_fba4ee1e088aadb259d2ca9f4f7" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "escalation_policy_tenant_idx" ON "escalation_policy"  ("tenantId") `);
    await queryRunner.query(`CREATE TYPE "public"."escalation_status" AS ENUM('open', 'acknowledged', 'resolved')`);
    await queryRunner.query(
      `CREATE TABLE "escalation" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "ticketId" uuid NOT NULL, "level" smallint NOT NULL, "recipientId" uuid NOT NULL, "reason" text NOT NULL, "manual" boolean NOT NULL DEFAULT false, "overdueMinutes" integer NOT NULL, "status" "public"."escalation_status" NOT NULL DEFAULT 'open', "deliveryIds" uuid array NOT NULL DEFAULT '{}', "runId" uuid, "createdById" uuid, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "acknowledgedAt" TIMESTAMP WITH TIME ZONE, "acknowledgedById" uuid, "resolvedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_2c9a4d9277ed8620a8a72813864" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "escalation_tenant_recipient_idx" ON "escalation"  ("tenantId", "recipientId") `);
    await queryRunner.query(`CREATE INDEX "escalation_tenant_created_idx" ON "escalation"  ("tenantId", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "escalation_tenant_status_idx" ON "escalation"  ("tenantId", "status") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "escalation_ticket_level_recipient_key" ON "escalation"  ("ticketId", "level", "recipientId") WHERE "manual" = false`,
    );
    await queryRunner.query(`CREATE TYPE "public"."job_trigger" AS ENUM('schedule', 'manual', 'retry')`);
    await queryRunner.query(`CREATE TYPE "public"."job_run_status" AS ENUM('running', 'completed', 'failed')`);
    await queryRunner.query(
      `CREATE TABLE "job_run" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "jobName" character varying(100) NOT NULL, "trigger" "public"."job_trigger" NOT NULL, "status" "public"."job_run_status" NOT NULL, "startedAt" TIMESTAMP WITH TIME ZONE NOT NULL, "finishedAt" TIMESTAMP WITH TIME ZONE, "durationMs" integer, "error" text, "summary" jsonb, "retryOfId" uuid, "retriedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_96fe0b041b8bc157dcec25bd8ef" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "job_run_tenant_failed_idx" ON "job_run"  ("tenantId", "startedAt") WHERE "status" = 'failed'`,
    );
    await queryRunner.query(`CREATE INDEX "job_run_tenant_job_started_idx" ON "job_run"  ("tenantId", "jobName", "startedAt") `);
    await queryRunner.query(
      `CREATE TABLE "job_state" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "jobName" character varying(100) NOT NULL, "paused" boolean NOT NULL DEFAULT false, "pausedReason" text, "consecutiveFailures" integer NOT NULL DEFAULT '0', "lastRunAt" TIMESTAMP WITH TIME ZONE, "lastFinishedAt" TIMESTAMP WITH TIME ZONE, "lastError" text, "runningSince" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_f707ed4d45fac3a411fb30d87de" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "job_state_tenant_job_key" ON "job_state"  ("tenantId", "jobName") `);
    await queryRunner.query(`ALTER TABLE "ticket" ADD "firstResponseBreachedAt" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "ticket" ADD "resolutionBreachedAt" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "ticket" ADD "slaWarnedAt" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "ticket" ADD "escalationLevel" smallint NOT NULL DEFAULT '0'`);
    await queryRunner.query(
      `CREATE INDEX "ticket_open_resolution_due_idx" ON "ticket"  ("tenantId", "resolutionDueAt") WHERE "status" IN ('open', 'assigned', 'in_progress', 'waiting_on_customer')`,
    );
    await queryRunner.query(
      `CREATE INDEX "ticket_open_first_response_due_idx" ON "ticket"  ("tenantId", "firstResponseDueAt") WHERE "firstRespondedAt" IS NULL AND "status" IN ('open', 'assigned', 'in_progress', 'waiting_on_customer')`,
    );
    await queryRunner.query(
      `ALTER TABLE "sla_policy" ADD CONSTRAINT "FK_fbb779b636b6bc91861ba9fc9d2" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "escalation_policy" ADD CONSTRAINT "FK_d17a3cd582fbbc178aab54ce640" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "escalation" ADD CONSTRAINT "FK_ec635fff3009f3655dc142e3c53" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "escalation" ADD CONSTRAINT "FK_4be2b7a7f473fdbba9ff9aa8a1c" FOREIGN KEY ("ticketId") REFERENCES "ticket"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "escalation" ADD CONSTRAINT "FK_ebfd29a144f8f0ce33d733812f6" FOREIGN KEY ("recipientId") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "job_run" ADD CONSTRAINT "FK_bd449373a79cc0a494276ef7c98" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "job_state" ADD CONSTRAINT "FK_1c5af6af7442b83b098f8f847c3" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "job_state" DROP CONSTRAINT "FK_1c5af6af7442b83b098f8f847c3"`);
    await queryRunner.query(`ALTER TABLE "job_run" DROP CONSTRAINT "FK_bd449373a79cc0a494276ef7c98"`);
    await queryRunner.query(`ALTER TABLE "escalation" DROP CONSTRAINT "FK_ebfd29a144f8f0ce33d733812f6"`);
    await queryRunner.query(`ALTER TABLE "escalation" DROP CONSTRAINT "FK_4be2b7a7f473fdbba9ff9aa8a1c"`);
    await queryRunner.query(`ALTER TABLE "escalation" DROP CONSTRAINT "FK_ec635fff3009f3655dc142e3c53"`);
    await queryRunner.query(`ALTER TABLE "escalation_policy" DROP CONSTRAINT "FK_d17a3cd582fbbc178aab54ce640"`);
    await queryRunner.query(`ALTER TABLE "sla_policy" DROP CONSTRAINT "FK_fbb779b636b6bc91861ba9fc9d2"`);
    await queryRunner.query(`DROP INDEX "public"."ticket_open_first_response_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."ticket_open_resolution_due_idx"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP COLUMN "escalationLevel"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP COLUMN "slaWarnedAt"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP COLUMN "resolutionBreachedAt"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP COLUMN "firstResponseBreachedAt"`);
    await queryRunner.query(`DROP INDEX "public"."job_state_tenant_job_key"`);
    await queryRunner.query(`DROP TABLE "job_state"`);
    await queryRunner.query(`DROP INDEX "public"."job_run_tenant_job_started_idx"`);
    await queryRunner.query(`DROP INDEX "public"."job_run_tenant_failed_idx"`);
    await queryRunner.query(`DROP TABLE "job_run"`);
    await queryRunner.query(`DROP TYPE "public"."job_run_status"`);
    await queryRunner.query(`DROP TYPE "public"."job_trigger"`);
    await queryRunner.query(`DROP INDEX "public"."escalation_ticket_level_recipient_key"`);
    await queryRunner.query(`DROP INDEX "public"."escalation_tenant_status_idx"`);
    await queryRunner.query(`DROP INDEX "public"."escalation_tenant_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."escalation_tenant_recipient_idx"`);
    await queryRunner.query(`DROP TABLE "escalation"`);
    await queryRunner.query(`DROP TYPE "public"."escalation_status"`);
    await queryRunner.query(`DROP INDEX "public"."escalation_policy_tenant_idx"`);
    await queryRunner.query(`DROP TABLE "escalation_policy"`);
    await queryRunner.query(`DROP INDEX "public"."sla_policy_tenant_priority_key"`);
    await queryRunner.query(`DROP TABLE "sla_policy"`);
  }
}
