import type { MigrationInterface, QueryRunner } from 'typeorm';
import { installNotificationPack } from '../services/rules/notification-pack';
import { PACK_V2_TEMPLATES } from '../services/rules/notification-pack.v2';

/** Installs version 2 of the built-in notification pack (SMS and e-mail templates) for every tenant that existed before it. */
export class NotificationPackV21795490000002 implements MigrationInterface {
  name = 'NotificationPackV21795490000002';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const tenants = (await queryRunner.query(`SELECT id FROM tenant`)) as Array<{ id: string }>;
    for (const tenant of tenants) {
      await installNotificationPack(queryRunner.manager, tenant.id, { templates: PACK_V2_TEMPLATES, rules: [] });
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DELETE FROM message_template WHERE channel IN ('sms', 'email') AND name = ANY($1::text[]) AND "createdAt" = "updatedAt"`,
      [[...new Set(PACK_V2_TEMPLATES.map((template) => template.name))]],
    );
  }
}
