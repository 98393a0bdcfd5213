import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Requests made with an idempotency key: its body's fingerprint and the first answer, per tenant, endpoint and key. */
export class IdempotentRequests1795490000000 implements MigrationInterface {
  name = 'IdempotentRequests1795490000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "idempotent_request" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "scope" character varying(100) NOT NULL, "key" character varying(200) NOT NULL, "fingerprint" character varying(64) NOT NULL, "response" jsonb NOT NULL, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_842a92d7b730d1869af3681b1af" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idempotent_request_created_idx" ON "idempotent_request" ("createdAt")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "idempotent_request_key" ON "idempotent_request" ("tenantId", "scope", "key")`);
    await queryRunner.query(
      `ALTER TABLE "idempotent_request" ADD CONSTRAINT "FK_995b32d299c4abb23dd5e0f5e36" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "idempotent_request"`);
  }
}
