import { MigrationInterface, QueryRunner } from 'typeorm';

export class SharedProviderPace1795477525506 implements MigrationInterface {
  name = 'SharedProviderPace1795477525506';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE UNLOGGED TABLE "provider_pace" ("providerId" uuid NOT NULL, "nextSlot" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_98f8b771611e8c33697f0c095b4" PRIMARY KEY ("providerId"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "provider_pace"`);
  }
}
