import { IsInt, IsOptional, Max, MaxLength, Min } from 'class-validator';
import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../services/platform/pagination';

/** Forward pagination arguments every connection takes; list arguments extend it. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 20, description: `Page size (1-${MAX_PAGE_SIZE}).` })
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first!: number;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts (`pageInfo.endCursor`).' })
  @IsOptional()
  @MaxLength(500)
  after?: string | null;
}

@ObjectType({ description: 'Relay-style pagination information.' })
export class PageInfo {
  @Field({ description: 'True when more items follow the last edge.' })
  hasNextPage!: boolean;

  @Field({ description: 'True when items precede the first edge (always false for forward pagination).' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first edge.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last edge; pass it as `after` for the next page.' })
  endCursor!: string | null;
}

export function pageInfo(edges: Array<{ cursor: string }>, hasNextPage: boolean): PageInfo {
  return {
    hasNextPage,
    hasPreviousPage: false,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? null,
  };
}
