import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Live events bigger than a NOTIFY payload cross processes by the id of a copy kept here
 * for a few minutes. Unlogged: a copy lost in a crash only means a missed screen update.
 * Not an entity: only the live transport reads and writes it.
 */
export class LiveEventPayloads1795461325228 implements MigrationInterface {
  name = 'LiveEventPayloads1795461325228';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE UNLOGGED TABLE "live_event_payload" ("id" BIGSERIAL PRIMARY KEY, "payload" text NOT NULL, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())`,
    );
    await queryRunner.query(`CREATE INDEX "live_event_payload_created_idx" ON "live_event_payload" ("createdAt")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "live_event_payload"`);
  }
}
