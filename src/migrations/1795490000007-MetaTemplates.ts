import type { MigrationInterface, QueryRunner } from 'typeorm';

/** WhatsApp Business Accounts' message templates as Meta reports them (name, language, category, status, components). */
export class MetaTemplates1795490000007 implements MigrationInterface {
  name = 'MetaTemplates1795490000007';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "meta_template" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "providerId" uuid NOT NULL, "metaId" character varying(64), "name" character varying(512) NOT NULL, "language" character varying(20) NOT NULL, "category" character varying(30) NOT NULL, "status" character varying(30) NOT NULL, "reason" character varying(300), "components" jsonb NOT NULL DEFAULT '[]', "syncedAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_0efc11cf8e0ce89e0aa2f215a4a" PRIMARY KEY ("id"))`,
    );
    // The dispatcher's claim reads a message's template status by tenant, name and language.
    await queryRunner.query(`CREATE INDEX "meta_template_tenant_name_idx" ON "meta_template" ("tenantId", "name", "language")`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "meta_template_provider_name_language_key" ON "meta_template" ("providerId", "name", "language")`,
    );
    await queryRunner.query(
      `ALTER TABLE "meta_template" ADD CONSTRAINT "FK_f7d3f4ae06655895f066f550f65" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "meta_template" ADD CONSTRAINT "FK_634a93fb83a08bf54c06924c6cf" FOREIGN KEY ("providerId") REFERENCES "channel_provider"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "meta_template"`);
  }
}
