import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Files uploaded by staff and customers, or received from providers, kept on disk or in S3 (FileService). */

export class StoredFiles1795490000009 implements MigrationInterface {
  name = 'StoredFiles1795490000009';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "stored_file" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "storageKey" character varying(100) NOT NULL, "fileName" character varying(200) NOT NULL, "contentType" character varying(120) NOT NULL, "size" integer NOT NULL, "sha256" character varying(64), "status" character varying(10) NOT NULL DEFAULT 'pending', "uploadedByUserId" uuid, "uploadedByContactId" uuid, "subjectType" character varying(30), "subjectId" uuid, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "expiresAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_e140967af84027b493a3ff04fbb" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "stored_file_unattached_idx" ON "stored_file" ("expiresAt") WHERE "subjectId" IS NULL`);
    await queryRunner.query(
      `CREATE INDEX "stored_file_subject_idx" ON "stored_file"  ("subjectId") WHERE "subjectId" IS NOT NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "stored_file" ADD CONSTRAINT "FK_525743b87dfe1aa1b7ba053f435" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "stored_file" DROP CONSTRAINT "FK_525743b87dfe1aa1b7ba053f435"`);
    await queryRunner.query(`DROP INDEX "public"."stored_file_subject_idx"`);
    await queryRunner.query(`DROP INDEX "public"."stored_file_unattached_idx"`);
    await queryRunner.query(`DROP TABLE "stored_file"`);
  }
}
