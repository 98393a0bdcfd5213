import { MigrationInterface, QueryRunner } from 'typeorm';

export class BusinessRecordsAndPeopleFields1795466345980 implements MigrationInterface {
  name = 'BusinessRecordsAndPeopleFields1795466345980';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "business_record" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "kind" character varying(50) NOT NULL, "externalId" character varying(200) NOT NULL, "title" character varying(300), "status" character varying(50) NOT NULL, "contactId" uuid, "userId" uuid, "ownerId" uuid, "dueAt" TIMESTAMP WITH TIME ZONE, "expiresAt" TIMESTAMP WITH TIME ZONE, "sentAt" TIMESTAMP WITH TIME ZONE, "scheduledAt" TIMESTAMP WITH TIME ZONE, "completedAt" TIMESTAMP WITH TIME ZONE, "amount" numeric(20,4), "currency" character varying(3), "attributes" jsonb NOT NULL DEFAULT '{}', "statusChangedAt" TIMESTAMP WITH TIME ZONE NOT NULL, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "business_record_one_subject" CHECK ("contactId" IS NULL OR "userId" IS NULL), CONSTRAINT "PK_cecc229cd9f1798ff1cf307305c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "business_record_due_idx" ON "business_record"  ("tenantId", "kind", "dueAt") WHERE "dueAt" IS NOT NULL AND "completedAt" IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX "business_record_created_idx" ON "business_record"  ("tenantId", "createdAt") `);
    await queryRunner.query(
      `CREATE INDEX "business_record_owner_idx" ON "business_record"  ("tenantId", "ownerId") WHERE "ownerId" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "business_record_user_idx" ON "business_record"  ("tenantId", "userId") WHERE "userId" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "business_record_contact_idx" ON "business_record"  ("tenantId", "contactId") WHERE "contactId" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "business_record_external_key" ON "business_record"  ("tenantId", "kind", "externalId") `,
    );
    await queryRunner.query(`ALTER TABLE "tenant" ADD "timezone" character varying(64) NOT NULL DEFAULT 'UTC'`);
    await queryRunner.query(`ALTER TABLE "tenant" ADD "locale" character varying(35) NOT NULL DEFAULT 'en'`);
    await queryRunner.query(`ALTER TABLE "tenant" ADD "defaultCountry" character varying(2)`);
    await queryRunner.query(`ALTER TABLE "contact" ADD "externalId" character varying(200)`);
    await queryRunner.query(`ALTER TABLE "contact" ADD "birthday" date`);
    await queryRunner.query(`ALTER TABLE "contact" ADD "anniversary" date`);
    await queryRunner.query(`ALTER TABLE "contact" ADD "timezone" character varying(64)`);
    await queryRunner.query(`ALTER TABLE "contact" ADD "locale" character varying(35)`);
    await queryRunner.query(`ALTER TABLE "contact" ADD "area" character varying(100)`);
    await queryRunner.query(`ALTER TABLE "contact" ADD "consent" jsonb NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "user" ADD "externalId" character varying(200)`);
    await queryRunner.query(`ALTER TABLE "user" ADD "timezone" character varying(64)`);
    await queryRunner.query(`ALTER TABLE "user" ADD "attributes" jsonb NOT NULL DEFAULT '{}'`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "contact_tenant_external_id_key" ON "contact"  ("tenantId", "externalId") WHERE "externalId" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "user_tenant_external_id_key" ON "user"  ("tenantId", "externalId") WHERE "externalId" IS NOT NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "business_record" ADD CONSTRAINT "FK_76d4b891a32d1000c3b46975e77" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "business_record" ADD CONSTRAINT "FK_3542c29bf0e68a9d84bc1a2f1c1" FOREIGN KEY ("contactId") REFERENCES "contact"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "business_record" ADD CONSTRAINT "FK_4a495ffd6eb41ed18bdab3f2bc1" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "business_record" ADD CONSTRAINT "FK_17573fa92c22adc25ba0bb1e993" FOREIGN KEY ("ownerId") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "business_record" DROP CONSTRAINT "FK_17573fa92c22adc25ba0bb1e993"`);
    await queryRunner.query(`ALTER TABLE "business_record" DROP CONSTRAINT "FK_4a495ffd6eb41ed18bdab3f2bc1"`);
    await queryRunner.query(`ALTER TABLE "business_record" DROP CONSTRAINT "FK_3542c29bf0e68a9d84bc1a2f1c1"`);
    await queryRunner.query(`ALTER TABLE "business_record" DROP CONSTRAINT "FK_76d4b891a32d1000c3b46975e77"`);
    await queryRunner.query(`DROP INDEX "public"."user_tenant_external_id_key"`);
    await queryRunner.query(`DROP INDEX "public"."contact_tenant_external_id_key"`);
    await queryRunner.query(`ALTER TABLE "user" DROP COLUMN "attributes"`);
    await queryRunner.query(`ALTER TABLE "user" DROP COLUMN "timezone"`);
    await queryRunner.query(`ALTER TABLE "user" DROP COLUMN "externalId"`);
    await queryRunner.query(`ALTER TABLE "contact" DROP COLUMN "consent"`);
    await queryRunner.query(`ALTER TABLE "contact" DROP COLUMN "area"`);
    await queryRunner.query(`ALTER TABLE "contact" DROP COLUMN "locale"`);
    await queryRunner.query(`ALTER TABLE "contact" DROP COLUMN "timezone"`);
    await queryRunner.query(`ALTER TABLE "contact" DROP COLUMN "anniversary"`);
    await queryRunner.query(`ALTER TABLE "contact" DROP COLUMN "birthday"`);
    await queryRunner.query(`ALTER TABLE "contact" DROP COLUMN "externalId"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "defaultCountry"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "locale"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "timezone"`);
    await queryRunner.query(`DROP INDEX "public"."business_record_external_key"`);
    await queryRunner.query(`DROP INDEX "public"."business_record_contact_idx"`);
    await queryRunner.query(`DROP INDEX "public"."business_record_user_idx"`);
    await queryRunner.query(`DROP INDEX "public"."business_record_owner_idx"`);
    await queryRunner.query(`DROP INDEX "public"."business_record_created_idx"`);
    await queryRunner.query(`DROP INDEX "public"."business_record_due_idx"`);
    await queryRunner.query(`DROP TABLE "business_record"`);
  }
}
