import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({
  description: 'A consumer of domain events (rules, completions, campaigns...) and how far behind it is, for this tenant.',
})
export class EventConsumerStatus {
  @Field({ description: 'Its name, as retryParkedEvents takes it.' })
  consumer!: string;

  @Field({ description: 'What it does with events.' })
  description!: string;

  @Field(() => Int, { description: 'Events of this tenant it has not handled yet.' })
  lag!: number;

  @Field(() => Date, { nullable: true, description: 'When the oldest of them happened.' })
  oldestPendingAt!: Date | null;

  @Field(() => Int, { description: 'Events it gave up on after too many failures, waiting for retryParkedEvents.' })
  parked!: number;

  @Field(() => String, { nullable: true, description: 'Its latest error on an event still pending or parked.' })
  lastError!: string | null;
}
