/**
 * Json passes through unchanged; DateTime is serialized with toISOString, as Contember does.
 * Bad values throw GraphQLError (not TypeError): graphql-jit keeps a GraphQLError's message as a
 * client error, while any other error inside variable coercion is masked as an internal 500.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql'

function literal(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING: case Kind.BOOLEAN: return ast.value
    case Kind.INT: case Kind.FLOAT: return Number(ast.value)
    case Kind.NULL: return null
    case Kind.LIST: return ast.values.map(literal)
    case Kind.OBJECT: return Object.fromEntries(ast.fields.map((field) => [field.name.value, literal(field.value)]))
    default: return undefined
  }
}

export const Json = new GraphQLScalarType({
  name: 'Json',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literal,
})

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => (value instanceof Date ? value.toISOString() : value),
  parseValue: (value) => {
    const date = new Date(String(value))
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string')
    return date
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string')
    const date = new Date(ast.value)
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string')
    return date
  },
})

/** ISO 8601 durations as Contember 2.1+ uses them (PT30M, P6M, PT1.5S); passed through as strings. */
const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/

function parseInterval(value: unknown): string {
  if (typeof value !== 'string' || !ISO_DURATION.test(value)) throw new GraphQLError('Interval must be an ISO 8601 duration, e.g. PT30M')
  return value
}

export const Interval = new GraphQLScalarType({
  name: 'Interval',
  serialize: (value) => value,
  parseValue: parseInterval,
  parseLiteral: (ast) => parseInterval(ast.kind === Kind.STRING ? ast.value : undefined),
})
