import type { MigrationInterface, QueryRunner } from 'typeorm';
import { installNotificationPack } from '../services/rules/notification-pack';
import { PACK_RULES, PACK_TEMPLATES } from '../services/rules/notification-pack.v1';

/** Installs version 1 of the built-in notification pack for every tenant that existed before it. */
export class NotificationPackV11795468462526 implements MigrationInterface {
  name = 'NotificationPackV11795468462526';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const tenants = (await queryRunner.query(`SELECT id FROM tenant`)) as Array<{ id: string }>;
    for (const tenant of tenants) {
      await installNotificationPack(queryRunner.manager, tenant.id, { templates: PACK_TEMPLATES, rules: PACK_RULES });
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM automation_rule WHERE "builtIn" = ANY($1::text[])`, [
      PACK_RULES.map((rule) => rule.key),
    ]);
    await queryRunner.query(`DELETE FROM message_template WHERE name = ANY($1::text[])`, [
      PACK_TEMPLATES.map((template) => template.name),
    ]);
  }
}
