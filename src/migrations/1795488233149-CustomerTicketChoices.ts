import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What customers may choose when they open a ticket, per tenant: every category, and priorities up to high. */
export class CustomerTicketChoices1795488233149 implements MigrationInterface {
  name = 'CustomerTicketChoices1795488233149';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "tenant" ADD "customerCategories" text array NOT NULL DEFAULT '{account,booking,payment,technical,billing,complaint,other}'`,
    );
    await queryRunner.query(`ALTER TABLE "tenant" ADD "customerPriorities" text array NOT NULL DEFAULT '{low,medium,high}'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "customerPriorities"`);
    await queryRunner.query(`ALTER TABLE "tenant" DROP COLUMN "customerCategories"`);
  }
}
