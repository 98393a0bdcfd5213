import { Arg, Args, Authorized, Ctx, Extensions, ID, Mutation, Query, Resolver } from 'type-graphql';
import { AccessToken, LoginArgs, LoginResult, Viewer } from '../schema/auth.types';
import { PUBLIC } from '../schema/auth';
import type { AuthedContext, Context } from '../schema/context';
import { TICKET_WORKERS, requireStaff } from '../services/directory/principal';

@Resolver()
export class AuthResolver {
  @Extensions(PUBLIC)
  @Mutation(() => LoginResult, {
    description:
      'Signs a staff user in and returns an access token. Wrong credentials fail with UNAUTHENTICATED; after 10 failures in 15 minutes from one client, RATE_LIMITED.',
  })
  login(@Args() { email, password, tenant }: LoginArgs, @Ctx() { services, clientAddress }: Context): Promise<LoginResult> {
    return services.auth.login(email, password, tenant ?? undefined, clientAddress);
  }

  @Query(() => Viewer, { description: 'Who is signed in.' })
  async me(@Ctx() { principal, services }: AuthedContext): Promise<Viewer> {
    const user = principal.kind === 'staff' ? await services.directory.user(principal, principal.userId) : null;
    return {
      kind: principal.kind,
      tenantId: principal.tenantId,
      user,
      contactId: principal.kind === 'customer' ? principal.contactId : null,
      name: principal.name,
      role: principal.role,
    };
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => AccessToken, {
    description: "Issues a token with which a host application shows a contact their own tickets (the customer's view).",
  })
  issueCustomerToken(
    @Arg('contactId', () => ID, { description: 'The contact to act as.' }) contactId: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<AccessToken> {
    return services.auth.issueCustomerToken(requireStaff(principal), contactId);
  }
}
