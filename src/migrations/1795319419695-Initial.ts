import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795319419695 implements MigrationInterface {
  name = 'Initial1795319419695';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "tenant" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "slug" character varying(63) NOT NULL, "name" character varying(200) NOT NULL, "ticketSequence" integer NOT NULL DEFAULT '0', "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_abfd243f7bd832e806d19c5a919" UNIQUE ("slug"), CONSTRAINT "PK_da8c6efd67bb301e810e56ac139" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "contact" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "name" character varying(200) NOT NULL, "phone" character varying(16), "email" character varying(320), "attributes" jsonb NOT NULL DEFAULT '{}', "tags" text array NOT NULL DEFAULT '{}', "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_2cbbe00f59ab6b3bb5b8d19f989" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "contact_tenant_email_idx" ON "contact"  ("tenantId", "email") `);
    await queryRunner.query(`CREATE INDEX "contact_tenant_phone_idx" ON "contact"  ("tenantId", "phone") `);
    await queryRunner.query(
      `CREATE TABLE "domain_event" ("id" BIGSERIAL NOT NULL, "tenantId" uuid NOT NULL, "type" character varying(100) NOT NULL, "subjectType" character varying(50) NOT NULL, "subjectId" uuid NOT NULL, "payload" jsonb NOT NULL, "actorId" uuid, "occurredAt" TIMESTAMP WITH TIME ZONE NOT NULL, "processedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_f901502d0301da69fb8cebbb8f2" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "domain_event_subject_idx" ON "domain_event"  ("tenantId", "subjectType", "subjectId") `,
    );
    await queryRunner.query(`CREATE INDEX "domain_event_unprocessed_idx" ON "domain_event"  ("id") WHERE "processedAt" IS NULL`);
    await queryRunner.query(
      `CREATE TYPE "public"."role" AS ENUM('admin', 'manager', 'supervisor', 'agent', 'technician', 'customer')`,
    );
    await queryRunner.query(`CREATE TYPE "public"."availability" AS ENUM('available', 'away', 'offline')`);
    await queryRunner.query(
      `CREATE TABLE "user" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "name" character varying(200) NOT NULL, "email" character varying(320) NOT NULL, "passwordHash" character varying(255) NOT NULL, "role" "public"."role" NOT NULL, "phone" character varying(16), "managerId" uuid, "availability" "public"."availability" NOT NULL DEFAULT 'available', "maxOpenTickets" integer NOT NULL DEFAULT '10', "lastAssignedAt" TIMESTAMP WITH TIME ZONE, "active" boolean NOT NULL DEFAULT true, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_cace4a159ff9f2512dd42373760" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "user_tenant_email_key" ON "user"  ("tenantId", "email") `);
    await queryRunner.query(
      `CREATE TYPE "public"."ticket_category" AS ENUM('account', 'booking', 'payment', 'technical', 'billing', 'complaint', 'other')`,
    );
    await queryRunner.query(`CREATE TYPE "public"."ticket_priority" AS ENUM('low', 'medium', 'high', 'urgent')`);
    await queryRunner.query(
      `CREATE TYPE "public"."ticket_status" AS ENUM('open', 'assigned', 'in_progress', 'waiting_on_customer', 'resolved', 'closed')`,
    );
    await queryRunner.query(
      `CREATE TABLE "ticket" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "number" integer NOT NULL, "subject" character varying(200) NOT NULL, "description" text NOT NULL DEFAULT '', "category" "public"."ticket_category" NOT NULL, "priority" "public"."ticket_priority" NOT NULL, "status" "public"."ticket_status" NOT NULL DEFAULT 'open', "requesterId" uuid NOT NULL, "assigneeId" uuid, "firstResponseDueAt" TIMESTAMP WITH TIME ZONE NOT NULL, "resolutionDueAt" TIMESTAMP WITH TIME ZONE NOT NULL, "firstRespondedAt" TIMESTAMP WITH TIME ZONE, "resolvedAt" TIMESTAMP WITH TIME ZONE, "closedAt" TIMESTAMP WITH TIME ZONE, "rating" smallint, "ratingComment" text, "ratedAt" TIMESTAMP WITH TIME ZONE, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_d9a0835407701eb86f874474b7c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ticket_tenant_created_idx" ON "ticket"  ("tenantId", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "ticket_tenant_requester_idx" ON "ticket"  ("tenantId", "requesterId") `);
    await queryRunner.query(
      `CREATE INDEX "ticket_tenant_assignee_status_idx" ON "ticket"  ("tenantId", "assigneeId", "status") `,
    );
    await queryRunner.query(`CREATE INDEX "ticket_tenant_status_idx" ON "ticket"  ("tenantId", "status") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "ticket_tenant_number_key" ON "ticket"  ("tenantId", "number") `);
    await queryRunner.query(`CREATE TYPE "public"."message_author_kind" AS ENUM('staff', 'customer')`);
    await queryRunner.query(
      `CREATE TABLE "ticket_message" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "ticketId" uuid NOT NULL, "authorKind" "public"."message_author_kind" NOT NULL, "authorUserId" uuid, "authorContactId" uuid, "authorName" character varying(200) NOT NULL, "body" text NOT NULL, "internal" boolean NOT NULL DEFAULT false, "attachments" jsonb NOT NULL DEFAULT '[]', "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_7d7c7fbe3303c18b7dbd6f1ce19" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ticket_message_ticket_created_idx" ON "ticket_message"  ("ticketId", "createdAt") `);
    await queryRunner.query(
      `ALTER TABLE "contact" ADD CONSTRAINT "FK_60468af1ce34043a900809c84f2" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "domain_event" ADD CONSTRAINT "FK_48ba2228d15805405c6a639562f" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user" ADD CONSTRAINT "FK_685bf353c85f23b6f848e4dcded" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user" ADD CONSTRAINT "FK_df69481de1f438f2082e4d54749" FOREIGN KEY ("managerId") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "ticket" ADD CONSTRAINT "FK_f20ac6eb16146cce1ea97acfade" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "ticket" ADD CONSTRAINT "FK_845cf1935d1650bca6c521602d7" FOREIGN KEY ("requesterId") REFERENCES "contact"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "ticket" ADD CONSTRAINT "FK_333ec3aa12386aaf915fbb7c1a6" FOREIGN KEY ("assigneeId") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "ticket_message" ADD CONSTRAINT "FK_9fa070d95516a9bae54bfa42988" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "ticket_message" ADD CONSTRAINT "FK_4a8ffd97be06a971781d2ecbe06" FOREIGN KEY ("ticketId") REFERENCES "ticket"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "ticket_message" ADD CONSTRAINT "FK_eb01e6d7079e0822cc444e42c68" FOREIGN KEY ("authorUserId") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "ticket_message" ADD CONSTRAINT "FK_29c8faf578f350078c1f1dccb6d" FOREIGN KEY ("authorContactId") REFERENCES "contact"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "ticket_message" DROP CONSTRAINT "FK_29c8faf578f350078c1f1dccb6d"`);
    await queryRunner.query(`ALTER TABLE "ticket_message" DROP CONSTRAINT "FK_eb01e6d7079e0822cc444e42c68"`);
    await queryRunner.query(`ALTER TABLE "ticket_message" DROP CONSTRAINT "FK_4a8ffd97be06a971781d2ecbe06"`);
    await queryRunner.query(`ALTER TABLE "ticket_message" DROP CONSTRAINT "FK_9fa070d95516a9bae54bfa42988"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP CONSTRAINT "FK_333ec3aa12386aaf915fbb7c1a6"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP CONSTRAINT "FK_845cf1935d1650bca6c521602d7"`);
    await queryRunner.query(`ALTER TABLE "ticket" DROP CONSTRAINT "FK_f20ac6eb16146cce1ea97acfade"`);
    await queryRunner.query(`ALTER TABLE "user" DROP CONSTRAINT "FK_df69481de1f438f2082e4d54749"`);
    await queryRunner.query(`ALTER TABLE "user" DROP CONSTRAINT "FK_685bf353c85f23b6f848e4dcded"`);
    await queryRunner.query(`ALTER TABLE "domain_event" DROP CONSTRAINT "FK_48ba2228d15805405c6a639562f"`);
    await queryRunner.query(`ALTER TABLE "contact" DROP CONSTRAINT "FK_60468af1ce34043a900809c84f2"`);
    await queryRunner.query(`DROP INDEX "public"."ticket_message_ticket_created_idx"`);
    await queryRunner.query(`DROP TABLE "ticket_message"`);
    await queryRunner.query(`DROP TYPE "public"."message_author_kind"`);
    await queryRunner.query(`DROP INDEX "public"."ticket_tenant_number_key"`);
    await queryRunner.query(`DROP INDEX "public"."ticket_tenant_status_idx"`);
    await queryRunner.query(`DROP INDEX "public"."ticket_tenant_assignee_status_idx"`);
    await queryRunner.query(`DROP INDEX "public"."ticket_tenant_requester_idx"`);
    await queryRunner.query(`DROP INDEX "public"."ticket_tenant_created_idx"`);
    await queryRunner.query(`DROP TABLE "ticket"`);
    await queryRunner.query(`DROP TYPE "public"."ticket_status"`);
    await queryRunner.query(`DROP TYPE "public"."ticket_priority"`);
    await queryRunner.query(`DROP TYPE "public"."ticket_category"`);
    await queryRunner.query(`DROP INDEX "public"."user_tenant_email_key"`);
    await queryRunner.query(`DROP TABLE "user"`);
    await queryRunner.query(`DROP TYPE "public"."availability"`);
    await queryRunner.query(`DROP TYPE "public"."role"`);
    await queryRunner.query(`DROP INDEX "public"."domain_event_unprocessed_idx"`);
    await queryRunner.query(`DROP INDEX "public"."domain_event_subject_idx"`);
    await queryRunner.query(`DROP TABLE "domain_event"`);
    await queryRunner.query(`DROP INDEX "public"."contact_tenant_phone_idx"`);
    await queryRunner.query(`DROP INDEX "public"."contact_tenant_email_idx"`);
    await queryRunner.query(`DROP TABLE "contact"`);
    await queryRunner.query(`DROP TABLE "tenant"`);
  }
}
