import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Deliveries1795321121250 implements MigrationInterface {
  name = 'Deliveries1795321121250';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TYPE "public"."provider_kind" AS ENUM('meta_whatsapp', 'fonnte', 'wablas', 'twilio_sms', 'smtp', 'webhook')`,
    );
    await queryRunner.query(`CREATE TYPE "public"."channel" AS ENUM('whatsapp', 'sms', 'email', 'webhook')`);
    await queryRunner.query(
      `CREATE TABLE "channel_provider" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "kind" "public"."provider_kind" NOT NULL, "channel" "public"."channel" NOT NULL, "name" character varying(100) NOT NULL, "priority" integer NOT NULL DEFAULT '100', "enabled" boolean NOT NULL DEFAULT true, "rateLimitPerSecond" double precision, "minIntervalMs" integer NOT NULL DEFAULT '0', "baseUrl" character varying(500), "settings" jsonb NOT NULL DEFAULT '{}', "credentials" text NOT NULL DEFAULT '', "consecutiveFailures" integer NOT NULL DEFAULT '0', "circuitOpenUntil" TIMESTAMP WITH TIME ZONE, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_db33d361faf11155be3ca51984e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "channel_provider_tenant_channel_idx" ON "channel_provider"  ("tenantId", "channel", "priority") `,
    );
    await queryRunner.query(
      `CREATE TYPE "public"."delivery_status" AS ENUM('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'dead', 'cancelled')`,
    );
    await queryRunner.query(
      `CREATE TABLE "delivery" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "channel" "public"."channel" NOT NULL, "recipient" character varying(500) NOT NULL, "originalRecipient" character varying(500), "contactId" uuid, "userId" uuid, "templateId" uuid, "subject" character varying(300), "body" text NOT NULL, "metaTemplate" jsonb, "notificationType" character varying(50) NOT NULL DEFAULT 'ad_hoc', "ticketId" uuid, "escalationId" uuid, "ruleExecutionId" uuid, "campaignId" uuid, "completionRequestId" uuid, "status" "public"."delivery_status" NOT NULL DEFAULT 'queued', "providerId" uuid, "providerMessageId" character varying(200), "failedOver" boolean NOT NULL DEFAULT false, "attempts" integer NOT NULL DEFAULT '0', "maxAttempts" integer NOT NULL DEFAULT '3', "nextAttemptAt" TIMESTAMP WITH TIME ZONE NOT NULL, "leaseUntil" TIMESTAMP WITH TIME ZONE, "lastErrorCode" character varying(100), "lastErrorMessage" text, "idempotencyKey" character varying(300) NOT NULL, "parentDeliveryId" uuid, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL, "sentAt" TIMESTAMP WITH TIME ZONE, "deliveredAt" TIMESTAMP WITH TIME ZONE, "readAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_ffad7bf84e68716cd9af89003b0" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "delivery_tenant_status_idx" ON "delivery"  ("tenantId", "status") `);
    await queryRunner.query(`CREATE INDEX "delivery_tenant_created_idx" ON "delivery"  ("tenantId", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "delivery_provider_message_idx" ON "delivery"  ("providerMessageId") `);
    await queryRunner.query(`CREATE INDEX "delivery_lease_idx" ON "delivery"  ("leaseUntil") WHERE "status" = 'sending'`);
    await queryRunner.query(`CREATE INDEX "delivery_due_idx" ON "delivery"  ("nextAttemptAt") WHERE "status" = 'queued'`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "delivery_tenant_idempotency_key" ON "delivery"  ("tenantId", "idempotencyKey") `,
    );
    await queryRunner.query(
      `CREATE TABLE "delivery_event" ("id" BIGSERIAL NOT NULL, "tenantId" uuid NOT NULL, "deliveryId" uuid NOT NULL, "type" character varying(30) NOT NULL, "providerId" uuid, "providerCode" character varying(100), "message" text, "payload" jsonb, "occurredAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_7284fd7d496949e5ca68880d751" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "delivery_event_delivery_idx" ON "delivery_event"  ("deliveryId", "id") `);
    await queryRunner.query(
      `CREATE TABLE "message_template" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "channel" "public"."channel" NOT NULL, "name" character varying(100) NOT NULL, "subject" character varying(300), "body" text NOT NULL, "metaTemplateName" character varying(200), "metaLanguage" character varying(20), "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_616800da109c721fb4dd2019a9b" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "message_template_tenant_channel_name_key" ON "message_template"  ("tenantId", "channel", "name") `,
    );
    await queryRunner.query(`ALTER TABLE "tenant" ADD "testMode" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE "tenant" ADD "testRecipients" jsonb NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "contact" ADD "optedOutChannels" text array NOT NULL DEFAULT '{}'`);
    await queryRunner.query(
      `ALTER TABLE "channel_provider" ADD CONSTRAINT "FK_aa1de0b9a3260da277b6eb061e2" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "delivery" ADD CONSTRAINT "FK_a87e991f3c1656b9c90136e6c9e" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "delivery" ADD CONSTRAINT "FK_075ac807846f354ef4f16019f87" FOREIGN KEY ("providerId") REFERENCES "channel_provider"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "delivery_event" ADD CONSTRAINT "FK_aa2be6af681db82a1e00caa5fa4" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "delivery_event" ADD CONSTRAINT "FK_01f2ecd95ccaed8a9b449215fb5" FOREIGN KEY ("deliveryId") REFERENCES "delivery"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "message_template" ADD CONSTRAINT "FK_11039f8d39bd442b3e91047247b" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "message_template" DROP CONSTRAINT "FK_11039f8d39bd442b3e91047247b"`);
    await queryRunner.query(`ALTER TABLE "delivery_event" DROP CONSTRAINT "FK_01f2ecd95ccaed8a9b449215fb5"`);
    await queryRunner.query(`ALTER TABLE "delivery_event" DROP CONSTRAINT "FK_aa2be6af681db82a1e00caa5fa4"`);
    await queryRunner.query(`ALTER TABLE "delivery" DROP CONSTRAINT "FK_075ac807846f354ef4f16019f87"`);
    await queryRunner.query(`ALTER TABLE "delivery" DROP CONSTRAINT "FK_a87e991f3c1656b9c90136e6c9e"`);
    await queryRunner.query(`ALTER TABLE "channel_provider" DROP CONSTRAINT "FK_aa1de0b9a3260da277b6eb061e2"`);
    await queryRunner.query(`ALTER TABLE "contact" DROP COLUMN "optedOutChannels"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "testRecipients"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "testMode"`);
    await queryRunner.query(`DROP INDEX "public"."message_template_tenant_channel_name_key"`);
    await queryRunner.query(`DROP TABLE "message_template"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_event_delivery_idx"`);
    await queryRunner.query(`DROP TABLE "delivery_event"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_tenant_idempotency_key"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_lease_idx"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_provider_message_idx"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_tenant_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."delivery_tenant_status_idx"`);
    await queryRunner.query(`DROP TABLE "delivery"`);
    await queryRunner.query(`DROP TYPE "public"."delivery_status"`);
    await queryRunner.query(`DROP INDEX "public"."channel_provider_tenant_channel_idx"`);
    await queryRunner.query(`DROP TABLE "channel_provider"`);
    await queryRunner.query(`DROP TYPE "public"."channel"`);
    await queryRunner.query(`DROP TYPE "public"."provider_kind"`);
  }
}
