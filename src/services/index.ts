import type { DataSource } from 'typeorm';
import { AuthService, type AuthSettings } from './auth.service';
import type { Clock } from './clock';
import { DashboardService } from './dashboard.service';
import { DirectoryService } from './directory.service';
import type { LiveEvents } from './live-events';
import { TenantSetupService } from './tenant-setup.service';
import { TicketService } from './ticket.service';
import { Transactor } from './unit-of-work';

/** Every domain service, wired once per process and handed to resolvers through the context. */
export interface Services {
  clock: Clock;
  live: LiveEvents;
  auth: AuthService;
  directory: DirectoryService;
  tickets: TicketService;
  dashboard: DashboardService;
  tenantSetup: TenantSetupService;
}

export function createServices(dataSource: DataSource, live: LiveEvents, clock: Clock, auth: AuthSettings): Services {
  const transactor = new Transactor(dataSource, clock);
  const tickets = new TicketService(dataSource, transactor, live, clock);
  return {
    clock,
    live,
    auth: new AuthService(dataSource, auth, clock),
    directory: new DirectoryService(dataSource),
    tickets,
    dashboard: new DashboardService(dataSource),
    tenantSetup: new TenantSetupService(dataSource, tickets),
  };
}
