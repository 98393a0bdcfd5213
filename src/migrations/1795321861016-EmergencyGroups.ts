import type { MigrationInterface, QueryRunner } from 'typeorm';

export class EmergencyGroups1795321861016 implements MigrationInterface {
  name = 'EmergencyGroups1795321861016';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tenant" ADD "emergencyWhatsAppGroups" text array NOT NULL DEFAULT '{}'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "emergencyWhatsAppGroups"`);
  }
}
