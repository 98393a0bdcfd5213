import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * NOTIFY principal_changed with the id of a user or contact whose signed-in principal would
 * change (deactivated, role, name, platform rights, tenant, deleted), so API processes drop
 * it from their principal cache. Other updates (availability, last assignment) stay quiet.
 */
export class PrincipalChangeNotices1795480000000 implements MigrationInterface {
  name = 'PrincipalChangeNotices1795480000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION notify_principal_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('principal_changed', OLD.id::text);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER user_principal_changed AFTER UPDATE ON "user" FOR EACH ROW
      WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.role IS DISTINCT FROM NEW.role
            OR OLD.name IS DISTINCT FROM NEW.name OR OLD."platformAdmin" IS DISTINCT FROM NEW."platformAdmin"
            OR OLD."tenantId" IS DISTINCT FROM NEW."tenantId")
      EXECUTE FUNCTION notify_principal_changed()`);
    await queryRunner.query(`
      CREATE TRIGGER user_principal_deleted AFTER DELETE ON "user" FOR EACH ROW EXECUTE FUNCTION notify_principal_changed()`);
    await queryRunner.query(`
      CREATE TRIGGER contact_principal_changed AFTER UPDATE ON contact FOR EACH ROW
      WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD."tenantId" IS DISTINCT FROM NEW."tenantId")
      EXECUTE FUNCTION notify_principal_changed()`);
    await queryRunner.query(`
      CREATE TRIGGER contact_principal_deleted AFTER DELETE ON contact FOR EACH ROW EXECUTE FUNCTION notify_principal_changed()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER contact_principal_deleted ON contact`);
    await queryRunner.query(`DROP TRIGGER contact_principal_changed ON contact`);
    await queryRunner.query(`DROP TRIGGER user_principal_deleted ON "user"`);
    await queryRunner.query(`DROP TRIGGER user_principal_changed ON "user"`);
    await queryRunner.query(`DROP FUNCTION notify_principal_changed()`);
  }
}
