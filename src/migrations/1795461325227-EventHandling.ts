import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox relay: one row per domain event and consumer (done, pending with its retries,
 * or parked), and an index to prune handled events after the retention period.
 */
export class EventHandling1795461325227 implements MigrationInterface {
  name = 'EventHandling1795461325227';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "event_handling" ("eventId" bigint NOT NULL, "consumer" character varying(100) NOT NULL, "tenantId" uuid NOT NULL, "seq" BIGSERIAL NOT NULL, "status" character varying(10) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "nextAttemptAt" TIMESTAMP WITH TIME ZONE NOT NULL, "lastError" text, "handledAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5b587853739cd08a9f3c65ec484" PRIMARY KEY ("eventId", "consumer"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "event_handling_parked_idx" ON "event_handling"  ("consumer", "tenantId") WHERE "status" = 'parked'`,
    );
    await queryRunner.query(
      `CREATE INDEX "event_handling_pending_idx" ON "event_handling"  ("consumer", "tenantId", "seq") WHERE "status" = 'pending'`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "event_handling_seq_key" ON "event_handling"  ("seq") `);
    await queryRunner.query(
      `CREATE INDEX "domain_event_processed_idx" ON "domain_event"  ("processedAt") WHERE "processedAt" IS NOT NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "event_handling" ADD CONSTRAINT "FK_153e86a03a8686b6e7c7108b273" FOREIGN KEY ("eventId") REFERENCES "domain_event"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "event_handling" ADD CONSTRAINT "FK_f6fbeb36df7c665827dc55215f2" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "event_handling" DROP CONSTRAINT "FK_f6fbeb36df7c665827dc55215f2"`);
    await queryRunner.query(`ALTER TABLE "event_handling" DROP CONSTRAINT "FK_153e86a03a8686b6e7c7108b273"`);
    await queryRunner.query(`DROP INDEX "public"."domain_event_processed_idx"`);
    await queryRunner.query(`DROP INDEX "public"."event_handling_seq_key"`);
    await queryRunner.query(`DROP INDEX "public"."event_handling_pending_idx"`);
    await queryRunner.query(`DROP INDEX "public"."event_handling_parked_idx"`);
    await queryRunner.query(`DROP TABLE "event_handling"`);
  }
}
