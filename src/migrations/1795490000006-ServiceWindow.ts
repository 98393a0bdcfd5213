import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Meta's 24-hour customer-service window per customer number and WhatsApp Business number. */
export class ServiceWindow1795490000006 implements MigrationInterface {
  name = 'ServiceWindow1795490000006';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "service_window" ("providerId" uuid NOT NULL, "phone" character varying(32) NOT NULL, "tenantId" uuid NOT NULL, "lastInboundAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_1f065edfc5d4f855e902c550db0" PRIMARY KEY ("providerId", "phone"))`,
    );
    // The dispatcher and the ticket read a customer's windows by tenant and number.
    await queryRunner.query(`CREATE INDEX "service_window_tenant_phone_idx" ON "service_window" ("tenantId", "phone")`);
    await queryRunner.query(
      `ALTER TABLE "service_window" ADD CONSTRAINT "FK_0c1519a90ef11228cc557e34a77" FOREIGN KEY ("providerId") REFERENCES "channel_provider"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "service_window"`);
  }
}
