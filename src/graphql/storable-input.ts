/**
 * No string argument may hold what PostgreSQL cannot store (NUL, unpaired surrogates:
 * http/storable-text.ts), whether written in the document or passed as a variable. Both are
 * refused before execution, so no resolver runs and no earlier root field of the same
 * mutation has written anything: a validation error (400, no data) naming the argument path.
 */
import { GraphQLError, Kind, type ASTNode, type ValidationRule } from 'graphql'
import { findUnstorableText, textProblem, TEXT_PROBLEM_MESSAGES } from '../http/storable-text.js'

/** graphql-js's own path wording for input values: input.env.A, roles[1]. */
function inputPath(path: (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('')
}

/** The literal's place: the argument (or variable default) and the input fields and list items inside it. */
function literalPlace(chain: ASTNode[]): string | undefined {
  let place: string | undefined
  const path: (string | number)[] = []
  for (let i = 0; i < chain.length; i++) {
    const node = chain[i]
    if (node.kind === Kind.ARGUMENT) {
      const owner = [...chain.slice(0, i)].reverse().find((n) => n.kind === Kind.FIELD || n.kind === Kind.DIRECTIVE)
      const ownerName = owner && 'name' in owner && owner.name ? owner.name.value : undefined
      place = owner?.kind === Kind.DIRECTIVE ? `Argument "${node.name.value}" of directive "@${ownerName}"` : `Argument "${node.name.value}" of field "${ownerName}"`
      path.length = 0
      path.push(node.name.value)
    } else if (node.kind === Kind.VARIABLE_DEFINITION) {
      place = `Default value of variable "$${node.variable.name.value}"`
      path.length = 0
      path.push(node.variable.name.value)
    } else if (node.kind === Kind.OBJECT_FIELD) {
      path.push(node.name.value)
    } else if (node.kind === Kind.LIST && chain[i + 1]) {
      path.push(node.values.indexOf(chain[i + 1] as never))
    }
  }
  return place && `${place} got invalid value at "${inputPath(path)}"`
}

/** String literals in the document (arguments, input objects, lists, variable defaults). */
export const StorableStringLiterals: ValidationRule = (context) => ({
  StringValue(node, _key, parent, _path, ancestors) {
    const problem = textProblem(node.value)
    if (!problem) return
    // `ancestors` stops before `parent`; both mix nodes with the arrays that hold them.
    const chain = [...ancestors, parent, node].filter((a): a is ASTNode => !Array.isArray(a) && typeof a === 'object' && a !== null && 'kind' in a)
    const place = literalPlace(chain)
    const message = place ? `${place}; String ${TEXT_PROBLEM_MESSAGES[problem]}.` : `String value ${TEXT_PROBLEM_MESSAGES[problem]}.`
    context.reportError(new GraphQLError(message, { nodes: node }))
  },
})

/** The variables' first unstorable string, as graphql-js words a variable it refuses; undefined when all are fine. */
export function unstorableVariableMessage(variables: Record<string, unknown> | undefined): string | undefined {
  const found = findUnstorableText(variables)
  // An empty path is a bad variable name: no operation can use it (names are [_A-Za-z0-9]), and graphql ignores unused variables.
  if (!found || found.path.length === 0) return undefined
  const [name] = found.path
  const what = found.inKey ? `keys ${TEXT_PROBLEM_MESSAGES[found.problem]}` : `String ${TEXT_PROBLEM_MESSAGES[found.problem]}`
  return `Variable "$${String(name)}" got invalid value at "${inputPath(found.path)}"; ${what}.`
}
