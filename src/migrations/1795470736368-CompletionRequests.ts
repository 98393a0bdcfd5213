import { MigrationInterface, QueryRunner } from 'typeorm';

export class CompletionRequests1795470736368 implements MigrationInterface {
  name = 'CompletionRequests1795470736368';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "completion_request" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "jobId" uuid NOT NULL, "ticketId" uuid, "technicianId" uuid NOT NULL, "contactId" uuid NOT NULL, "note" text, "photos" text array NOT NULL DEFAULT '{}', "status" character varying(20) NOT NULL, "deadlineAt" TIMESTAMP WITH TIME ZONE NOT NULL, "remindersSent" integer NOT NULL DEFAULT '0', "nextCheckAt" TIMESTAMP WITH TIME ZONE, "escalatedAt" TIMESTAMP WITH TIME ZONE, "supportTicketId" uuid, "responseComment" text, "respondedVia" character varying(20), "responseMessageId" character varying(200), "outcomeAt" TIMESTAMP WITH TIME ZONE, "linkTokenHash" character varying(64) NOT NULL, "createdById" uuid, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_bad5bd710db9844b130e054a6cc" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "completion_request_link_key" ON "completion_request"  ("linkTokenHash") `);
    await queryRunner.query(
      `CREATE INDEX "completion_request_due_idx" ON "completion_request"  ("nextCheckAt") WHERE status = 'pending'`,
    );
    await queryRunner.query(
      `CREATE INDEX "completion_request_contact_idx" ON "completion_request"  ("tenantId", "contactId", "status") `,
    );
    await queryRunner.query(
      `CREATE INDEX "completion_request_tenant_created_idx" ON "completion_request"  ("tenantId", "createdAt") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "completion_request_pending_job_key" ON "completion_request"  ("tenantId", "jobId") WHERE status = 'pending'`,
    );
    await queryRunner.query(
      `CREATE TABLE "completion_contact_attempt" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "requestId" uuid NOT NULL, "channel" character varying(20) NOT NULL, "outcome" character varying(20) NOT NULL, "note" text, "byUserId" uuid NOT NULL, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_68cbd51d7223c4b46d3bf19e3df" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "completion_contact_attempt_request_idx" ON "completion_contact_attempt"  ("requestId", "createdAt") `,
    );
    await queryRunner.query(
      `CREATE TABLE "review" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "completionRequestId" uuid NOT NULL, "jobId" uuid NOT NULL, "technicianId" uuid NOT NULL, "contactId" uuid NOT NULL, "rating" smallint NOT NULL, "comment" text, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_2e4299a343a81574217255c00ca" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "review_technician_idx" ON "review"  ("tenantId", "technicianId", "createdAt") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "review_request_key" ON "review"  ("completionRequestId") `);
    await queryRunner.query(
      `ALTER TABLE "completion_request" ADD CONSTRAINT "FK_49fbc311da1c170408222327a1c" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "completion_contact_attempt" ADD CONSTRAINT "FK_6b0762dfc673337e4b04a946499" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "review" ADD CONSTRAINT "FK_2fbee164a3d4f8318f3a364a074" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "review" DROP CONSTRAINT "FK_2fbee164a3d4f8318f3a364a074"`);
    await queryRunner.query(`ALTER TABLE "completion_contact_attempt" DROP CONSTRAINT "FK_6b0762dfc673337e4b04a946499"`);
    await queryRunner.query(`ALTER TABLE "completion_request" DROP CONSTRAINT "FK_49fbc311da1c170408222327a1c"`);
    await queryRunner.query(`DROP INDEX "public"."review_request_key"`);
    await queryRunner.query(`DROP INDEX "public"."review_technician_idx"`);
    await queryRunner.query(`DROP TABLE "review"`);
    await queryRunner.query(`DROP INDEX "public"."completion_contact_attempt_request_idx"`);
    await queryRunner.query(`DROP TABLE "completion_contact_attempt"`);
    await queryRunner.query(`DROP INDEX "public"."completion_request_pending_job_key"`);
    await queryRunner.query(`DROP INDEX "public"."completion_request_tenant_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."completion_request_contact_idx"`);
    await queryRunner.query(`DROP INDEX "public"."completion_request_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."completion_request_link_key"`);
    await queryRunner.query(`DROP TABLE "completion_request"`);
  }
}
