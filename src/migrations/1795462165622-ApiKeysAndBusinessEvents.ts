import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys for machine clients, and domain events from other systems: their idempotency
 * key (unique per tenant), how they named their subject, and where they came from.
 */
export class ApiKeysAndBusinessEvents1795462165622 implements MigrationInterface {
  name = 'ApiKeysAndBusinessEvents1795462165622';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "api_key" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "name" character varying(100) NOT NULL, "prefix" character varying(16) NOT NULL, "secretHash" character varying(64) NOT NULL, "scopes" text array NOT NULL, "createdById" uuid, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "lastUsedAt" TIMESTAMP WITH TIME ZONE, "revokedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_b1bd840641b8acbaad89c3d8d11" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "api_key_tenant_idx" ON "api_key"  ("tenantId", "createdAt") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "api_key_prefix_key" ON "api_key"  ("prefix") `);
    await queryRunner.query(`ALTER TABLE "domain_event" ADD "subjectRef" jsonb`);
    await queryRunner.query(`ALTER TABLE "domain_event" ADD "idempotencyKey" character varying(200)`);
    await queryRunner.query(`ALTER TABLE "domain_event" ADD "source" character varying(20) NOT NULL DEFAULT 'internal'`);
    await queryRunner.query(`ALTER TABLE "domain_event" ALTER COLUMN "subjectId" DROP NOT NULL`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "domain_event_idempotency_key" ON "domain_event"  ("tenantId", "idempotencyKey") WHERE "idempotencyKey" IS NOT NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "api_key" ADD CONSTRAINT "FK_b7af40f187f158c5c4188f45acd" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "api_key" DROP CONSTRAINT "FK_b7af40f187f158c5c4188f45acd"`);
    await queryRunner.query(`DROP INDEX "public"."domain_event_idempotency_key"`);
    await queryRunner.query(`ALTER TABLE "domain_event" ALTER COLUMN "subjectId" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "source"`);
    await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "idempotencyKey"`);
    await queryRunner.query(`ALTER TABLE "domain_event" DROP COLUMN "subjectRef"`);
    await queryRunner.query(`DROP INDEX "public"."api_key_prefix_key"`);
    await queryRunner.query(`DROP INDEX "public"."api_key_tenant_idx"`);
    await queryRunner.query(`DROP TABLE "api_key"`);
  }
}
