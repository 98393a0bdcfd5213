import { Role, STAFF_ROLES } from '../src/entities/user.entity';
import { notificationRefusal, rolesFor, typesFor } from '../src/services/delivery/notification-roles';

describe('notification roles', () => {
  it('keeps offers and promotions to admins and managers', () => {
    expect(rolesFor('promotion')).toEqual([Role.ADMIN, Role.MANAGER]);
    expect(notificationRefusal(Role.SUPERVISOR, 'offer')).toMatch(
      /A supervisor may not send offer messages \(only admin, manager may\)/,
    );
  });

  it('lets technicians send only what is about their job, and tells them so', () => {
    expect(typesFor(Role.TECHNICIAN)).toEqual(['job_update', 'technician_on_the_way']);
    expect(notificationRefusal(Role.TECHNICIAN, 'job_update')).toBeNull();
    expect(notificationRefusal(Role.TECHNICIAN, 'ad_hoc')).toMatch(/may send job_update, technician_on_the_way$/);
    expect(notificationRefusal(Role.TECHNICIAN, 'payment_reminder')).not.toBeNull();
  });

  it("gives a business's own types to the staff who work tickets", () => {
    for (const role of [Role.ADMIN, Role.MANAGER, Role.SUPERVISOR, Role.AGENT] as const)
      expect(notificationRefusal(role, 'payment_reminder')).toBeNull();
  });

  it("refuses the product's own types to everyone, admins included", () => {
    for (const role of STAFF_ROLES) {
      expect(notificationRefusal(role, 'satisfaction_survey')).toBe(
        'satisfaction_survey messages are sent by the product itself, not by hand',
      );
      expect(notificationRefusal(role, 'completion_request')).not.toBeNull();
    }
  });
});
