import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every delivery is worth sending until `validUntil` (then EXPIRED, never late), and may
 * carry the message rendered for its fallback channels. Deliveries that exist keep three
 * days from when they were queued; a queued one held back with its paused campaign
 * ('infinity') now waits until its validity instead, as a held message does.
 */
export class DeliveryValidityAndFallbacks1795490000001 implements MigrationInterface {
  name = 'DeliveryValidityAndFallbacks1795490000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TYPE "public"."delivery_status" ADD VALUE IF NOT EXISTS 'expired'`);
    await queryRunner.query(`ALTER TABLE "delivery" ADD "validUntil" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`UPDATE "delivery" SET "validUntil" = "createdAt" + interval '3 days'`);
    await queryRunner.query(
      `UPDATE "delivery" SET "nextAttemptAt" = LEAST("nextAttemptAt", "validUntil") WHERE status = 'queued' AND "nextAttemptAt" > "validUntil"`,
    );
    await queryRunner.query(`ALTER TABLE "delivery" ALTER COLUMN "validUntil" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "delivery" ADD "fallbacks" jsonb NOT NULL DEFAULT '[]'`);
    await queryRunner.query(`ALTER TABLE "message_template" ADD "validForMinutes" integer`);
    await queryRunner.query(`ALTER TABLE "campaign" ADD "validForMinutes" integer`);
    // History steps are written only by the ledger, only with their delivery, and nothing deletes a
    // delivery or a tenant on its own: the two foreign keys checked per step were 60% of writing a
    // campaign batch's queued steps (65 ms of 105 per 5,000).
    await queryRunner.query(`ALTER TABLE "delivery_event" DROP CONSTRAINT "FK_01f2ecd95ccaed8a9b449215fb5"`);
    await queryRunner.query(`ALTER TABLE "delivery_event" DROP CONSTRAINT "FK_aa2be6af681db82a1e00caa5fa4"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "delivery_event" ADD CONSTRAINT "FK_aa2be6af681db82a1e00caa5fa4" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "delivery_event" ADD CONSTRAINT "FK_01f2ecd95ccaed8a9b449215fb5" FOREIGN KEY ("deliveryId") REFERENCES "delivery"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(`ALTER TABLE "campaign" DROP COLUMN "validForMinutes"`);
    await queryRunner.query(`ALTER TABLE "message_template" DROP COLUMN "validForMinutes"`);
    await queryRunner.query(`ALTER TABLE "delivery" DROP COLUMN "fallbacks"`);
    await queryRunner.query(`ALTER TABLE "delivery" DROP COLUMN "validUntil"`);
    // PostgreSQL cannot drop an enum value; an expired delivery reads as cancelled on the old code.
    await queryRunner.query(`UPDATE "delivery" SET status = 'cancelled' WHERE status = 'expired'`);
  }
}
