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
import { GraphQLError, Kind, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql'

export const GRAPHQL_LIMITS = { maxTokens: 5000, maxDepth: 12, maxIntrospectionDepth: 30, maxFields: 300, maxRootFields: 20 } as const

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

/** Levels of fields below a selection set (a field is one level; fragments add none of their own). */
function depthOf(context: ValidationContext, selectionSet: SelectionSetNode, fragments: Map<string, number>, visiting: Set<string>): number {
  let depth = 0
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      depth = Math.max(depth, 1 + (selection.selectionSet ? depthOf(context, selection.selectionSet, fragments, visiting) : 0))
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = Math.max(depth, depthOf(context, selection.selectionSet, fragments, visiting))
    } else {
      const name = selection.name.value
      let fragmentDepth = fragments.get(name)
      if (fragmentDepth === undefined) {
        const fragment = context.getFragment(name)
        if (!fragment || visiting.has(name)) continue
        visiting.add(name)
        fragmentDepth = depthOf(context, fragment.selectionSet, fragments, visiting)
        visiting.delete(name)
        fragments.set(name, fragmentDepth)
      }
      depth = Math.max(depth, fragmentDepth)
    }
  }
  return depth
}

const INTROSPECTION_ROOTS = new Set(['__schema', '__type'])

/** Depth of an operation's data fields and of its introspection fields, each against its own limit. */
function depthErrors(context: ValidationContext, node: OperationDefinitionNode, fragments: Map<string, number>, limits: DepthLimits): string[] {
  let data = 0
  let introspection = 0
  const visit = (selectionSet: SelectionSetNode, visiting: Set<string>) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const depth = 1 + (selection.selectionSet ? depthOf(context, selection.selectionSet, fragments, new Set()) : 0)
        if (INTROSPECTION_ROOTS.has(selection.name.value)) introspection = Math.max(introspection, depth)
        else data = Math.max(data, depth)
        continue
      }
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : context.getFragment(selection.name.value)
      const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : undefined
      if (!fragment || (name && visiting.has(name))) continue
      if (name) visiting.add(name)
      visit(fragment.selectionSet, visiting)
      if (name) visiting.delete(name)
    }
  }
  visit(node.selectionSet, new Set())
  const name = node.name ? node.name.value : 'unnamedQuery'
  const errors: string[] = []
  if (data > limits.maxDepth) errors.push(`${name} query depth (${data}) exceeds the query depth limit of ${limits.maxDepth}`)
  if (introspection > limits.maxIntrospectionDepth) {
    errors.push(`${name} introspection depth (${introspection}) exceeds the introspection depth limit of ${limits.maxIntrospectionDepth}`)
  }
  return errors
}

interface DepthLimits { maxDepth: number, maxIntrospectionDepth: number }

export function operationSizeRule(limits: DepthLimits & { maxFields: number, maxRootFields: number } = GRAPHQL_LIMITS): ValidationRule {
  return (context) => {
    const fragments = new Map<string, number>()
    const depths = new Map<string, number>()
    return {
      OperationDefinition(node) {
        for (const message of depthErrors(context, node, depths, limits)) context.reportError(new GraphQLError(message, { nodes: node }))
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
