import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A recurring campaign ends by a date or after a number of runs. */
export class CampaignEnd1795490000012 implements MigrationInterface {
  name = 'CampaignEnd1795490000012';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "campaign" ADD "endsAt" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "campaign" ADD "maxRuns" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "campaign" DROP COLUMN "maxRuns"`);
    await queryRunner.query(`ALTER TABLE "campaign" DROP COLUMN "endsAt"`);
  }
}
