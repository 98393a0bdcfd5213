import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One index for "one message per address and run" instead of two: the sender's duplicate
 * check and a group's uniqueness read the same partial unique index, and every recipient
 * written costs one index entry less. A run that somehow holds an address twice keeps the
 * first and marks the rest duplicates.
 */
export class CampaignRecipientAddressKey1795490000003 implements MigrationInterface {
  name = 'CampaignRecipientAddressKey1795490000003';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE campaign_recipient r SET "skipReason" = 'duplicate'
         FROM (SELECT id, row_number() OVER (PARTITION BY "runId", address ORDER BY "createdAt", id) AS n
                 FROM campaign_recipient WHERE "skipReason" IS NULL) d
        WHERE r.id = d.id AND d.n > 1`,
    );
    await queryRunner.query(`DROP INDEX "public"."campaign_recipient_run_address_idx"`);
    await queryRunner.query(`DROP INDEX "public"."campaign_recipient_run_group_key"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "campaign_recipient_run_address_key" ON "campaign_recipient" ("runId", "address") WHERE "skipReason" IS NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."campaign_recipient_run_address_key"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "campaign_recipient_run_group_key" ON "campaign_recipient" ("runId", "address") WHERE ("contactId" IS NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "campaign_recipient_run_address_idx" ON "campaign_recipient" ("runId", "address")`);
  }
}
