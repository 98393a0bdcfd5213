import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Platform rights become a flag only the create-admin command sets (they were decided by
 * e-mail, which any tenant admin could copy), and a provider identity that routes inbound
 * traffic (Meta phone number id, gateway device number) is claimed by exactly one provider.
 * Where two providers already share one, the oldest keeps it: that is where inbound traffic
 * went before.
 */
export class PlatformAdminsAndInboundIdentity1795400000000 implements MigrationInterface {
  name = 'PlatformAdminsAndInboundIdentity1795400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "user" ADD "platformAdmin" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE "channel_provider" ADD "inboundIdentity" character varying(120)`);
    await queryRunner.query(`
      UPDATE channel_provider p SET "inboundIdentity" = claims.identity
        FROM (SELECT id, identity, row_number() OVER (PARTITION BY identity ORDER BY "createdAt", id) AS n
                FROM (SELECT id, "createdAt",
                             CASE WHEN kind = 'meta_whatsapp' AND coalesce(settings ->> 'phoneNumberId', '') <> ''
                                    THEN 'meta:' || (settings ->> 'phoneNumberId')
                                  WHEN kind IN ('fonnte', 'wablas') AND regexp_replace(coalesce(settings ->> 'device', ''), '\\D', '', 'g') <> ''
                                    THEN 'whatsapp-device:' || regexp_replace(settings ->> 'device', '\\D', '', 'g')
                             END AS identity
                        FROM channel_provider) AS derived
               WHERE identity IS NOT NULL) AS claims
       WHERE p.id = claims.id AND claims.n = 1`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "channel_provider_inbound_identity_key" ON "channel_provider" ("inboundIdentity") WHERE "inboundIdentity" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."channel_provider_inbound_identity_key"`);
    await queryRunner.query(`ALTER TABLE "channel_provider" DROP COLUMN "inboundIdentity"`);
    await queryRunner.query(`ALTER TABLE "user" DROP COLUMN "platformAdmin"`);
  }
}
