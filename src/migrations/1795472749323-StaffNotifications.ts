import { MigrationInterface, QueryRunner } from 'typeorm';

export class StaffNotifications1795472749323 implements MigrationInterface {
  name = 'StaffNotifications1795472749323';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "staff_notification" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenantId" uuid NOT NULL, "userId" uuid NOT NULL, "title" character varying(200) NOT NULL, "body" text NOT NULL, "ticketId" uuid, "recordId" uuid, "idempotencyKey" character varying(300) NOT NULL, "readAt" TIMESTAMP WITH TIME ZONE, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "UQ_e21e80b9aed62105d7530af480b" UNIQUE ("idempotencyKey"), CONSTRAINT "PK_687ce8c4bfb1aca0b40c5d828cc" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "staff_notification_unread_idx" ON "staff_notification"  ("userId") WHERE "readAt" IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX "staff_notification_user_idx" ON "staff_notification"  ("userId", "createdAt") `);
    await queryRunner.query(
      `ALTER TABLE "staff_notification" ADD CONSTRAINT "FK_d6ad1cbd53c3c6b90b6741b90e3" FOREIGN KEY ("tenantId") REFERENCES "tenant"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "staff_notification" DROP CONSTRAINT "FK_d6ad1cbd53c3c6b90b6741b90e3"`);
    await queryRunner.query(`DROP INDEX "public"."staff_notification_user_idx"`);
    await queryRunner.query(`DROP INDEX "public"."staff_notification_unread_idx"`);
    await queryRunner.query(`DROP TABLE "staff_notification"`);
  }
}
