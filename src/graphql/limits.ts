/**
 * How much one GraphQL request may ask for. Refused at validation (400, no data, nothing
 * executed), and Mercurius caches the refusal per document, so a repeated abusive document
 * costs a cache lookup. Defaults, each with room above the largest operation a Contember
 * client sends (tests/graphql/limits.test.ts measures them):
 *   - tokens:      5000 per document (parse aborts past it: bounds parse and validation work);
 *   - depth:       12 levels (Mercurius' queryDepth);
 *   - fields:      300 field selections per operation, fragments expanded (an alias or a
 *                  fragment used twice counts twice: 5000 aliases of `me { id }` is 10000);
 *   - root fields: 20 per operation (each root mutation is its own transaction).
 * Batches (a JSON array body) are not GraphQL requests here at all: "Missing request query",
 * as Contember answers them.
 */
import { GraphQLError, Kind, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql'

export const GRAPHQL_LIMITS = { maxTokens: 5000, maxDepth: 12, maxFields: 300, maxRootFields: 20 } as const

function operationName(node: OperationDefinitionNode): string {
  return node.name ? `Operation "${node.name.value}"` : `The anonymous ${node.operation}`
}

/** Field selections in a selection set with fragments expanded; a fragment's total is computed once. */
function fieldCount(context: ValidationContext, selectionSet: SelectionSetNode, fragments: Map<string, number>, visiting: Set<string>): number {
  let count = 0
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      count += 1 + (selection.selectionSet ? fieldCount(context, selection.selectionSet, fragments, visiting) : 0)
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += fieldCount(context, selection.selectionSet, fragments, visiting)
    } else {
      const name = selection.name.value
      let total = fragments.get(name)
      if (total === undefined) {
        const fragment = context.getFragment(name)
        // Unknown and cyclic fragments are reported by graphql's own rules; they add nothing here.
        if (!fragment || visiting.has(name)) continue
        visiting.add(name)
        total = fieldCount(context, fragment.selectionSet, fragments, visiting)
        visiting.delete(name)
        fragments.set(name, total)
      }
      count += total
    }
  }
  return count
}

/** Root fields of an operation, fragments at the root expanded. */
function rootFieldCount(context: ValidationContext, selectionSet: SelectionSetNode, visiting: Set<string>): number {
  let count = 0
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) count++
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += rootFieldCount(context, selection.selectionSet, visiting)
    else {
      const fragment = context.getFragment(selection.name.value)
      if (!fragment || visiting.has(fragment.name.value)) continue
      visiting.add(fragment.name.value)
      count += rootFieldCount(context, fragment.selectionSet, visiting)
      visiting.delete(fragment.name.value)
    }
  }
  return count
}

export function operationSizeRule(limits: { maxFields: number, maxRootFields: number } = GRAPHQL_LIMITS): ValidationRule {
  return (context) => {
    const fragments = new Map<string, number>()
    return {
      OperationDefinition(node) {
        const roots = rootFieldCount(context, node.selectionSet, new Set())
        if (roots > limits.maxRootFields) {
          context.reportError(new GraphQLError(`${operationName(node)} has ${roots} root fields, more than the limit of ${limits.maxRootFields}.`, { nodes: node }))
        }
        const fields = fieldCount(context, node.selectionSet, fragments, new Set())
        if (fields > limits.maxFields) {
          context.reportError(new GraphQLError(
            `${operationName(node)} selects ${fields} fields, more than the limit of ${limits.maxFields} (every alias and every use of a fragment counts).`, { nodes: node }))
        }
      },
    }
  }
}
