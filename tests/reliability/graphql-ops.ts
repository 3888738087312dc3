/**
 * The GraphQL operation list, derived from the schema (so a new operation is covered without
 * editing the suite), and fast-check arbitraries for each operation's arguments: well-typed
 * values with hostile contents most of the time, wrong types some of the time.
 */
import fc from 'fast-check'
import {
  buildSchema, getNamedType, isEnumType, isInputObjectType, isListType, isObjectType, isNonNullType, isScalarType, isLeafType,
  type GraphQLField, type GraphQLInputType, type GraphQLSchema,
} from 'graphql'
import { tenantSchemaSource } from '../../src/graphql/plugin.js'

export const schema: GraphQLSchema = buildSchema(tenantSchemaSource)

export interface Operation { kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown> }

export function operations(): Operation[] {
  const query = Object.values(schema.getQueryType()!.getFields()).map((field) => ({ kind: 'query' as const, field }))
  const mutation = Object.values(schema.getMutationType()!.getFields()).map((field) => ({ kind: 'mutation' as const, field }))
  return [...query, ...mutation]
}

/** Strings an attacker would try: injection, control and edge-case unicode, huge, empty. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "'; drop table person; --", '" or 1=1 --', "' or '1'='1", '$1); delete from tenant; --', '\\x00', '\u0000', 'a\u0000b',
    '\r\nSet-Cookie: evil=1', 'x\r\n\r\nHTTP/1.1 200 OK', '../../etc/passwd', '{{constructor.constructor("return process")()}}',
    '__proto__', 'constructor', '\ud800', '\udfff', '\u202e', '\ufeff', '𝕏'.repeat(50), 'é'.normalize('NFD'), '', ' ', '@', 'a@b',
    '<script>alert(1)</script>', '%00', '${7*7}', 'null', 'undefined', 'NaN', '-1', '1e309',
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => 'x'.repeat(n)),
  fc.emailAddress(),
  fc.uuid(),
)

function wrongType(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.boolean(), hostileString, fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }))
}

function deep(depth: number): unknown {
  let value: unknown = 'leaf'
  for (let i = 0; i < depth; i++) value = { a: [value] }
  return value
}

/** A value for an input type: hostile but well-typed (p≈0.85) or of a wrong type. */
export function valueFor(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  const typed = typedValue(type, depth)
  return fc.oneof({ weight: 6, arbitrary: typed }, { weight: 1, arbitrary: wrongType() })
}

function typedValue(type: GraphQLInputType, depth: number): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return typedValue(type.ofType as GraphQLInputType, depth)
  if (isListType(type)) return fc.array(valueFor(type.ofType as GraphQLInputType, depth + 1), { maxLength: depth > 2 ? 1 : 3 })
  if (isEnumType(type)) return fc.constantFrom(...type.getValues().map((v) => v.name))
  if (isInputObjectType(type)) {
    if (depth > 4) return fc.constant({})
    const fields = Object.values(type.getFields())
    return fc.record(Object.fromEntries(fields.map((f) => [f.name, valueFor(f.type, depth + 1)])), { requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name) })
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int': return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2147483647, -2147483648))
      case 'Float': return fc.double({ noNaN: true })
      case 'Boolean': return fc.boolean()
      case 'Json': return fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constant(deep(200)))
      case 'DateTime': return fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), hostileString)
      default: return hostileString
    }
  }
  return fc.constant(null)
}

/** `mutation($a0: T0, …) { field(arg0: $a0, …) { __typename } }` with variables for every argument. */
export function document(operation: Operation): string {
  const args = operation.field.args
  const declarations = args.map((arg, i) => `$a${i}: ${String(arg.type)}`).join(', ')
  const call = args.length ? `(${args.map((arg, i) => `${arg.name}: $a${i}`).join(', ')})` : ''
  const named = getNamedType(operation.field.type)
  // `ok` shows a business refusal (Contember's ok:false) where the payload has it.
  const selection = isLeafType(named) ? '' : isObjectType(named) && 'ok' in named.getFields() ? ' { __typename ok }' : ' { __typename }'
  return `${operation.kind}${declarations ? `(${declarations})` : ''} { ${operation.field.name}${call}${selection} }`
}

export function variablesFor(operation: Operation): fc.Arbitrary<Record<string, unknown>> {
  const args = operation.field.args
  return fc.record(Object.fromEntries(args.map((arg, i) => [`a${i}`, valueFor(arg.type)])), {
    requiredKeys: [],
  })
}
