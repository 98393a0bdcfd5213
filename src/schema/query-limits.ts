import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLOutputType,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
} from 'graphql';
import { MAX_PAGE_SIZE } from '../services/platform/pagination';

/**
 * Limits a frontend never reaches and an abusive query always does, checked before
 * anything runs: depth, aliases, directives, tokens, and a cost estimate where a list
 * costs its `first` (or a default) times its items. A refused query answers
 * QUERY_TOO_COMPLEX naming the limit, in milliseconds, whatever its size.
 */
export const QUERY_LIMITS = {
  depth: 12,
  aliases: 30,
  directives: 30,
  tokens: 5000,
  cost: 25_000,
} as const;

/** What a list without `first` is counted as. */
const DEFAULT_LIST_SIZE = 20;

/** The extension a refused query carries, read by the error formatter. */
export const QUERY_LIMIT_EXTENSION = 'queryLimit';

/** Reports a rule's refusal as this limit's, instead of the rule throwing it. */
function refusal(limit: keyof typeof QUERY_LIMITS) {
  return {
    propagateOnRejection: false,
    exposeLimits: true,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(
          new GraphQLError(error.message.replace(/^Syntax Error: /, 'The query is too complex: '), {
            extensions: { [QUERY_LIMIT_EXTENSION]: limit, max: QUERY_LIMITS[limit] },
          }),
        ),
    ],
  };
}

/** Each list field costs its size (its `first`, else a default) times what it selects. */
const costRule: ValidationRule = (context) => {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const cost = (selectionSet: SelectionSetNode | undefined, type: GraphQLOutputType | undefined, seen: Set<string>): number => {
    if (!selectionSet) return 0;
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) total += fieldCost(selection, type, seen);
      else if (selection.kind === Kind.INLINE_FRAGMENT) total += cost(selection.selectionSet, type, seen);
      else if (!seen.has(selection.name.value)) {
        const fragment = fragments.get(selection.name.value);
        total += fragment ? cost(fragment.selectionSet, type, new Set([...seen, selection.name.value])) : 0;
      }
    }
    return total;
  };
  const fieldCost = (field: FieldNode, parent: GraphQLOutputType | undefined, seen: Set<string>): number => {
    // Introspection (the IDE's schema query) is not priced.
    if (field.name.value.startsWith('__')) return 0;
    const parentType = parent ? getNamedType(parent) : undefined;
    const definition = parentType && 'getFields' in parentType ? parentType.getFields()[field.name.value] : undefined;
    const returns = definition?.type as GraphQLOutputType | undefined;
    if (!returns || !isCompositeType(getNamedType(returns))) return 1;
    const first = field.arguments?.find((argument) => argument.name.value === 'first')?.value;
    // A variable's value is not known yet: count the largest page it could ask for.
    const given = first?.kind === Kind.INT ? Number(first.value) : first?.kind === Kind.VARIABLE ? MAX_PAGE_SIZE : undefined;
    const connection = getNamedType(returns).name.endsWith('Connection');
    const list = isListType(getNullableType(returns));
    // A connection's edges are the page its `first` already counted.
    const insideConnection = !!parentType?.name.endsWith('Connection');
    const size = typeof given === 'number' ? given : insideConnection ? 1 : connection || list ? DEFAULT_LIST_SIZE : 1;
    return 1 + Math.max(size, 1) * cost(field.selectionSet, returns, seen);
  };
  return {
    OperationDefinition(operation) {
      const root = context.getSchema().getRootType(operation.operation);
      const total = cost(operation.selectionSet, root ?? undefined, new Set());
      if (total > QUERY_LIMITS.cost) {
        context.reportError(
          new GraphQLError(
            `The query is too expensive: it would cost about ${total}, the limit is ${QUERY_LIMITS.cost}. Ask for fewer items per page or fewer nested lists.`,
            {
              nodes: [operation],
              extensions: { [QUERY_LIMIT_EXTENSION]: 'cost', max: QUERY_LIMITS.cost },
            },
          ),
        );
      }
    },
  };
};

/** The rules both transports (HTTP and graphql-ws) add to GraphQL's own. */
export const QUERY_LIMIT_RULES: ValidationRule[] = [
  maxDepthRule({ n: QUERY_LIMITS.depth, ignoreIntrospection: true, ...refusal('depth') }),
  maxAliasesRule({ n: QUERY_LIMITS.aliases, ...refusal('aliases') }),
  maxDirectivesRule({ n: QUERY_LIMITS.directives, ...refusal('directives') }),
  costRule,
];

/** Whether a parse error is the token limit's refusal. */
export function isTokenLimitError(message: string): boolean {
  return /Document contains more th[ae][nt] \d+ tokens/.test(message);
}
