/** Query cost: a bound on the number of fields a query selects (fragments expanded), besides its depth. */
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

export const maxQueryDepth = 8;
export const maxQueryFields = 500;

function countFields(
  set: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  seen: Set<string>,
): number {
  if (!set) return 0;
  let total = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) total += 1 + countFields(selection.selectionSet, fragments, seen);
    else if (selection.kind === Kind.INLINE_FRAGMENT) total += countFields(selection.selectionSet, fragments, seen);
    else if (!seen.has(selection.name.value)) {
      const fragment = fragments[selection.name.value];
      total += countFields(fragment?.selectionSet, fragments, new Set([...seen, selection.name.value]));
    }
  }
  return total;
}

export function costLimitRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      const fragments = Object.fromEntries(
        context
          .getDocument()
          .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
          .map((d) => [d.name.value, d]),
      );
      const fields = countFields(node.selectionSet, fragments, new Set());
      if (fields > maxQueryFields)
        context.reportError(
          new GraphQLError(`the query selects ${fields} fields; at most ${maxQueryFields} are allowed`, {
            nodes: [node],
            extensions: { code: 'invalid', reason: 'query_too_costly' },
          }),
        );
    },
  };
}
