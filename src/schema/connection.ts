import { IsInt, IsOptional, Max, MaxLength, Min } from 'class-validator';
import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import { MAX_PAGE_SIZE, type PageRequest } from '../services/platform/pagination';

/**
 * Pagination arguments every connection takes (list arguments extend it): forwards with
 * first/after, or backwards with last/before (from the end of the list without a cursor).
 */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 20, description: `Page size (1-${MAX_PAGE_SIZE}), paging forwards.` })
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first!: number;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts (`pageInfo.endCursor`).' })
  @IsOptional()
  @MaxLength(500)
  after?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: `Page backwards: this many items (1-${MAX_PAGE_SIZE}) that end just before \`before\`, or the list's last ones.`,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  last?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor before which the page ends (`pageInfo.startCursor`); pages backwards, `first` items unless `last`.',
  })
  @IsOptional()
  @MaxLength(500)
  before?: string | null;
}

/** The page a connection's arguments ask for, and the rest of the arguments (the filter). */
export function splitPage<T extends PageArgs>(args: T): [PageRequest, Omit<T, keyof PageArgs>] {
  const { first, after, last, before, ...rest } = args;
  return [{ first, after, last, before }, rest];
}

@ObjectType({ description: 'Relay-style pagination information.' })
export class PageInfo {
  @Field({ description: 'True when more items follow the last edge.' })
  hasNextPage!: boolean;

  @Field({ description: 'True when items precede the first edge.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first edge.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last edge; pass it as `after` for the next page.' })
  endCursor!: string | null;
}

export function pageInfo(page: { edges: Array<{ cursor: string }>; hasNextPage: boolean; hasPreviousPage?: boolean }): PageInfo {
  const { edges, hasNextPage } = page;
  return {
    hasNextPage,
    hasPreviousPage: page.hasPreviousPage ?? false,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? null,
  };
}
