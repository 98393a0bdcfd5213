import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InboundMessages1795322150149 implements MigrationInterface {
  name = 'InboundMessages1795322150149';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "ticket_message" ADD "externalId" character varying(200)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "ticket_message_tenant_external_key" ON "ticket_message"  ("tenantId", "externalId") WHERE "externalId" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ticket_message_tenant_external_key"`);
    await queryRunner.query(`ALTER TABLE "ticket_message" DROP COLUMN "externalId"`);
  }
}
