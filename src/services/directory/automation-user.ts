import type { EntityManager } from 'typeorm';
import { Role, User } from '../../entities/user.entity';
import { NO_PASSWORD } from './password';
import type { StaffPrincipal } from './principal';

const AUTOMATION_EMAIL = 'automation@notify-desk.invalid';

/**
 * The tenant's "Automation" user: who changes made by the product itself (rule actions,
 * auto-closing) are recorded as. Created on first use; inactive, without a password, so
 * it never signs in, takes work or receives escalations.
 */
export async function automationActor(manager: EntityManager, tenantId: string, label: string): Promise<StaffPrincipal> {
  await manager
    .createQueryBuilder()
    .insert()
    .into(User)
    .values({ tenantId, name: 'Automation', email: AUTOMATION_EMAIL, role: Role.ADMIN, passwordHash: NO_PASSWORD, active: false })
    .orIgnore()
    .execute();
  const user = await manager.findOneByOrFail(User, { tenantId, email: AUTOMATION_EMAIL });
  return { kind: 'staff', tenantId, userId: user.id, role: Role.ADMIN, name: label };
}
