import { MigrationInterface, QueryRunner } from 'typeorm';

export class Campaigns1795476725682 implements MigrationInterface {
  name = 'Campaigns1795476725682';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "campaign_recipient" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "campaignId" uuid NOT NULL, "runId" uuid NOT NULL, "contactId" uuid, "address" character varying(320) NOT NULL, "skipReason" character varying(20), "deliveryId" uuid, "tokenHash" character varying(64), "links" text array NOT NULL DEFAULT '{}', "plannedAt" TIMESTAMP WITH TIME ZONE, "clickedAt" TIMESTAMP WITH TIME ZONE, "repliedAt" TIMESTAMP WITH TIME ZONE, "unsubscribedAt" TIMESTAMP WITH TIME ZONE, "convertedAt" TIMESTAMP WITH TIME ZONE, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_1b3a6acf41b73676029cc4127d1" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "campaign_recipient_contact_idx" ON "campaign_recipient"  ("tenantId", "contactId", "createdAt") `,
    );
    await queryRunner.query(`CREATE INDEX "campaign_recipient_campaign_idx" ON "campaign_recipient"  ("campaignId", "id") `);
    await queryRunner.query(`CREATE INDEX "campaign_recipient_run_address_idx" ON "campaign_recipient"  ("runId", "address") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "campaign_recipient_token_key" ON "campaign_recipient"  ("tokenHash") WHERE "tokenHash" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "campaign_recipient_run_group_key" ON "campaign_recipient"  ("runId", "address") WHERE "contactId" IS NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "campaign_recipient_run_contact_key" ON "campaign_recipient"  ("runId", "contactId") WHERE "contactId" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "campaign_run" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "campaignId" uuid NOT NULL, "occurrence" TIMESTAMP WITH TIME ZONE NOT NULL, "cursor" uuid, "groupsDone" boolean NOT NULL DEFAULT false, "targeted" integer NOT NULL DEFAULT '0', "startedAt" TIMESTAMP WITH TIME ZONE NOT NULL, "enqueuedAt" TIMESTAMP WITH TIME ZONE, "finishedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_a37cf6e2f8d8dd9f029049595d1" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "campaign_run_enqueuing_idx" ON "campaign_run"  ("tenantId") WHERE "enqueuedAt" IS NULL`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "campaign_run_occurrence_key" ON "campaign_run"  ("campaignId", "occurrence") `);
    await queryRunner.query(
      `CREATE TABLE "campaign" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "name" character varying(200) NOT NULL, "description" text, "type" character varying(20) NOT NULL DEFAULT 'one_off', "category" character varying(20) NOT NULL, "channels" text array NOT NULL, "template" character varying(100), "text" text, "subject" character varying(300), "variables" jsonb NOT NULL DEFAULT '{}', "audience" jsonb NOT NULL, "preset" character varying(50), "sendAt" TIMESTAMP WITH TIME ZONE, "cron" character varying(100), "timezone" character varying(64), "localSendTime" character varying(5), "quietFrom" character varying(5), "quietUntil" character varying(5), "throttlePerMinute" integer, "conversionEventType" character varying(100), "conversionWindowHours" integer NOT NULL DEFAULT '168', "status" character varying(20) NOT NULL DEFAULT 'draft', "nextRunAt" TIMESTAMP WITH TIME ZONE, "conversionScannedAt" TIMESTAMP WITH TIME ZONE, "pausedFrom" character varying(20), "createdById" uuid, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "finishedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_0ce34d26e7f2eb316a3a592cdc4" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "campaign_due_idx" ON "campaign"  ("nextRunAt") WHERE status = 'scheduled'`);
    await queryRunner.query(`CREATE INDEX "campaign_tenant_created_idx" ON "campaign"  ("tenantId", "createdAt") `);
    await queryRunner.query(
      `CREATE TABLE "consent_change" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "contactId" uuid NOT NULL, "channel" character varying(20) NOT NULL, "granted" boolean NOT NULL, "source" character varying(100) NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_95890da790546124b8544c33b6a" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "consent_change_contact_idx" ON "consent_change"  ("tenantId", "contactId", "at") `);
    await queryRunner.query(
      `CREATE TABLE "segment" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "name" character varying(200) NOT NULL, "description" text, "filter" jsonb NOT NULL, "createdById" uuid, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_d648ac58d8e0532689dfb8ad7ef" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "segment_tenant_name_key" ON "segment"  ("tenantId", "name") `);
    await queryRunner.query(`ALTER TABLE "tenant" ADD "optOutCoversAll" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE "tenant" ADD "stopKeywords" text array NOT NULL DEFAULT '{STOP,BERHENTI,UNSUBSCRIBE}'`);
    await queryRunner.query(`ALTER TABLE "tenant" ADD "startKeywords" text array NOT NULL DEFAULT '{START,MULAI}'`);
    await queryRunner.query(`ALTER TABLE "delivery" ADD "ticketMessageId" uuid`);
    await queryRunner.query(`ALTER TABLE "delivery" ADD "unsubscribeUrl" character varying(500)`);
    await queryRunner.query(`CREATE INDEX "contact_tenant_id_idx" ON "contact"  ("tenantId", "id") `);
    await queryRunner.query(
      `CREATE INDEX "delivery_ticket_message_idx" ON "delivery"  ("ticketMessageId") WHERE "ticketMessageId" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "delivery_campaign_idx" ON "delivery"  ("campaignId", "status") WHERE "campaignId" IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "domain_event_type_idx" ON "domain_event"  ("tenantId", "type", "occurredAt") `);
    await queryRunner.query(
      `ALTER TABLE "campaign_recipient" ADD CONSTRAINT "FK_bbb6dd555525b63eda68c82b374" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "campaign_run" ADD CONSTRAINT "FK_7edec02580ca7e91e395a632ce5" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "campaign" ADD CONSTRAINT "FK_e13b5da1e55792804d58b199bd1" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "consent_change" ADD CONSTRAINT "FK_4e3913bdbf23fa72a65fecb8e8e" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "segment" ADD CONSTRAINT "FK_c29721b1c74c485f8fbb94defac" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "segment" DROP CONSTRAINT "FK_c29721b1c74c485f8fbb94defac"`);
    await queryRunner.query(`ALTER TABLE "consent_change" DROP CONSTRAINT "FK_4e3913bdbf23fa72a65fecb8e8e"`);
    await queryRunner.query(`ALTER TABLE "campaign" DROP CONSTRAINT "FK_e13b5da1e55792804d58b199bd1"`);
    await queryRunner.query(`ALTER TABLE "campaign_run" DROP CONSTRAINT "FK_7edec02580ca7e91e395a632ce5"`);
    await queryRunner.query(`ALTER TABLE "campaign_recipient" DROP CONSTRAINT "FK_bbb6dd555525b63eda68c82b374"`);
    await queryRunner.query(`DROP INDEX "public"."domain_event_type_idx"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_campaign_idx"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_ticket_message_idx"`);
    await queryRunner.query(`DROP INDEX "public"."contact_tenant_id_idx"`);
    await queryRunner.query(`ALTER TABLE "delivery" DROP COLUMN "unsubscribeUrl"`);
    await queryRunner.query(`ALTER TABLE "delivery" DROP COLUMN "ticketMessageId"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "startKeywords"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "stopKeywords"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "optOutCoversAll"`);
    await queryRunner.query(`DROP INDEX "public"."segment_tenant_name_key"`);
    await queryRunner.query(`DROP TABLE "segment"`);
    await queryRunner.query(`DROP INDEX "public"."consent_change_contact_idx"`);
    await queryRunner.query(`DROP TABLE "consent_change"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_tenant_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_due_idx"`);
    await queryRunner.query(`DROP TABLE "campaign"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_run_occurrence_key"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_run_enqueuing_idx"`);
    await queryRunner.query(`DROP TABLE "campaign_run"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_recipient_run_contact_key"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_recipient_run_group_key"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_recipient_token_key"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_recipient_run_address_idx"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_recipient_campaign_idx"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_recipient_contact_idx"`);
    await queryRunner.query(`DROP TABLE "campaign_recipient"`);
  }
}
