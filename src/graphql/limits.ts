/**
 * How much one GraphQL request may ask for. Refused at validation (400, no data, nothing
 * executed), and Mercurius caches the refusal per document, so a repeated abusive document
 * costs a cache lookup. Defaults, each with room above the largest operation a Contember
 * client sends (tests/graphql/limits.test.ts measures them):
 *   - tokens:      5000 per document (parse aborts past it: bounds parse and validation work);
 *   - depth:       12 levels; the introspection fields (__schema, __type) 30 instead, since the
 *                  standard introspection query of GraphiQL and code generators nests ofType
 *                  deeper than any data query needs, and what it reads is bounded by the schema;
 *   - fields:      300 field selections per operation, fragments expanded (an alias or a
 *                  fragment used twice counts twice: 5000 aliases of `me { id }` is 10000);
 *   - root fields: 20 per operation (each root mutation is its own transaction).
 * Batches (a JSON array body) are not GraphQL requests here at all: "Missing request query",
 * as Contember answers them.
 */
import { GraphQLError, Kind, type FieldNode, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql'

export const GRAPHQL_LIMITS = { maxTokens: 5000, maxDepth: 12, maxIntrospectionDepth: 30, maxFields: 300, maxRootFields: 20 } as const

function operationName(node: OperationDefinitionNode): string {
  return node.name ? `Operation "${node.name.value}"` : `The anonymous ${node.operation}`
}

type Combine = (a: number, b: number) => number
const sum: Combine = (a, b) => a + b

/**
 * Folds the fields of a selection set into one number, fragments (inline and named) expanded.
 * A named fragment's value is computed once per document (`memo`), so a fragment bomb costs its
 * definitions, not its expansion. Unknown and cyclic fragments are reported by graphql's own
 * rules; they add nothing here.
 */
function fold(
  context: ValidationContext, selectionSet: SelectionSetNode, valueOf: (field: FieldNode) => number, combine: Combine,
  memo: Map<string, number>, visiting = new Set<string>(),
): number {
  let total = 0
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      total = combine(total, valueOf(selection))
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      total = combine(total, fold(context, selection.selectionSet, valueOf, combine, memo, visiting))
    } else {
      const name = selection.name.value
      let value = memo.get(name)
      if (value === undefined) {
        const fragment = context.getFragment(name)
        if (!fragment || visiting.has(name)) continue
        visiting.add(name)
        value = fold(context, fragment.selectionSet, valueOf, combine, memo, visiting)
        visiting.delete(name)
        memo.set(name, value)
      }
      total = combine(total, value)
    }
  }
  return total
}

const INTROSPECTION_ROOTS = new Set(['__schema', '__type'])

/** The measures of one document; each keeps its own per-fragment memo. */
function measures(context: ValidationContext) {
  const memo = () => new Map<string, number>()
  const [counts, depths, roots, dataDepths, introspectionDepths] = [memo(), memo(), memo(), memo(), memo()]
  const isIntrospection = (field: FieldNode) => INTROSPECTION_ROOTS.has(field.name.value)
  /** Field selections, every alias and every use of a fragment counted. */
  const fieldCount = (set: SelectionSetNode): number => fold(context, set, (f) => 1 + (f.selectionSet ? fieldCount(f.selectionSet) : 0), sum, counts)
  /** Levels of fields (a field is one level; fragments add none of their own). */
  const fieldDepth = (f: FieldNode): number => 1 + (f.selectionSet ? fold(context, f.selectionSet, fieldDepth, Math.max, depths) : 0)
  return {
    fieldCount,
    rootFieldCount: (set: SelectionSetNode) => fold(context, set, () => 1, sum, roots),
    /** An operation's depth below its data root fields, and below its introspection root fields. */
    dataDepth: (set: SelectionSetNode) => fold(context, set, (f) => (isIntrospection(f) ? 0 : fieldDepth(f)), Math.max, dataDepths),
    introspectionDepth: (set: SelectionSetNode) => fold(context, set, (f) => (isIntrospection(f) ? fieldDepth(f) : 0), Math.max, introspectionDepths),
  }
}

interface Limits { maxDepth: number, maxIntrospectionDepth: number, maxFields: number, maxRootFields: number }

export function operationSizeRule(limits: Limits = GRAPHQL_LIMITS): ValidationRule {
  return (context) => {
    const measure = measures(context)
    const refuse = (node: OperationDefinitionNode, message: string) => context.reportError(new GraphQLError(message, { nodes: node }))
    return {
      OperationDefinition(node) {
        // Depth messages keep Mercurius' wording (its queryDepth option did this before).
        const name = node.name ? node.name.value : 'unnamedQuery'
        const data = measure.dataDepth(node.selectionSet)
        if (data > limits.maxDepth) refuse(node, `${name} query depth (${data}) exceeds the query depth limit of ${limits.maxDepth}`)
        const introspection = measure.introspectionDepth(node.selectionSet)
        if (introspection > limits.maxIntrospectionDepth) {
          refuse(node, `${name} introspection depth (${introspection}) exceeds the introspection depth limit of ${limits.maxIntrospectionDepth}`)
        }
        const roots = measure.rootFieldCount(node.selectionSet)
        if (roots > limits.maxRootFields) refuse(node, `${operationName(node)} has ${roots} root fields, more than the limit of ${limits.maxRootFields}.`)
        const fields = measure.fieldCount(node.selectionSet)
        if (fields > limits.maxFields) {
          refuse(node, `${operationName(node)} selects ${fields} fields, more than the limit of ${limits.maxFields} (every alias and every use of a fragment counts).`)
        }
      },
    }
  }
}
