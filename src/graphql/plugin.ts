/**
 * The GraphQL surface at /tenant, wire-compatible with Contember's engine: authentication before
 * GraphQL (401 JSON bodies with Contember's messages), "Missing request query", plain-text
 * "Bad Request" for malformed JSON, Contember's status rule and error shapes, CORS as Contember.
 * Mercurius executes (JIT, parse cache, loaders); the route around it is ours so the wire
 * shapes are exact. Request size limits: limits.ts; strings PostgreSQL cannot store: storable-input.ts.
 * Bodies are JSON only: another Content-Type is 415 (Contember's bodyparser would ignore it and
 * answer "Missing request query").
 */
import { readFileSync } from 'node:fs'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import cors from '@fastify/cors'
import mercurius from 'mercurius'
import { GraphQLError, parse, type ExecutionResult } from 'graphql'
import type { DomainContext } from '../domain/context.js'
import { isDatabaseUnavailable } from '../domain/errors.js'
import { authenticate } from '../domain/tokens/authenticate.js'
import { apiKeyTrustsForwardedInfo } from '../domain/abuse/forwarded-info.js'
import { closeRateLimitStore, reportRateLimitErrors } from '../domain/abuse/rate-limit.js'
import { ClientInfoResolver } from '../http/client-info.js'
import { trackApiKeyUse } from '../domain/sessions/tracking.js'
import { DATABASE_UNAVAILABLE, formatErrors, RETRY_AFTER, statusFor } from './errors.js'
import { GRAPHQL_LIMITS, operationSizeRule } from './limits.js'
import { StorableStringLiterals, unstorableVariableMessage } from './storable-input.js'
import type { GraphQLContext } from './context.js'
import { resolvers, loaders } from './resolvers/index.js'

export const tenantSchemaSource = readFileSync(new URL('./schema/tenant.graphql', import.meta.url), 'utf8')

interface GraphQLBody { query?: unknown, variables?: unknown, operationName?: unknown }

function unauthorized(reply: FastifyReply, message: string) {
  return reply.code(401).type('application/json').send({ errors: [{ code: 401, message }] })
}

function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).type('application/json').send({ errors: [{ message }] })
}

export async function graphqlPlugin(app: FastifyInstance, opts: { ctx: DomainContext }): Promise<void> {
  const { ctx } = opts
  const clients = new ClientInfoResolver(ctx.config.trustedProxies)
  reportRateLimitErrors(ctx, (error) => app.log.error({ err: error }, 'rate-limit store failed; the limited operation was refused'))
  app.addHook('onClose', async () => closeRateLimitStore(ctx))
  await app.register(cors, {
    origin: '*',
    methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'],
    // allowedHeaders unset: the requested headers (X-Contember-Token-Path among them) are echoed, as @koa/cors does.
    maxAge: 600,
  })
  await app.register(mercurius, {
    schema: tenantSchemaSource,
    resolvers: resolvers as never,
    loaders: loaders as never,
    routes: false,
    jit: 1,
    cache: 1024,
    validationRules: [operationSizeRule(), StorableStringLiterals],
    graphql: { parseOptions: { maxTokens: GRAPHQL_LIMITS.maxTokens } },
    errorFormatter: (execution) => ({ statusCode: 200, response: execution as never }),
  })

  // Fastify's default text/plain parser would hand the handler a string body.
  app.removeContentTypeParser('text/plain')
  // Malformed JSON is refused before authentication with a plain-text body, as Contember's bodyparser does.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.statusCode === 413) return reply.code(413).type('application/json').send({ errors: [{ message: 'Request body is too large' }] })
    if (error.statusCode === 415) {
      const message = `Content-Type must be application/json, got "${request.headers['content-type'] ?? ''}"`
      return reply.code(415).type('application/json').send({ errors: [{ message }] })
    }
    if (error.statusCode && error.statusCode < 500) return reply.code(400).type('text/plain').send('Bad Request')
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'tenant request failed: database unavailable')
      return reply.code(503).header('retry-after', RETRY_AFTER).type('application/json').send({ errors: [DATABASE_UNAVAILABLE] })
    }
    request.log.error({ err: error }, 'tenant request failed')
    return reply.code(500).type('application/json').send({ errors: [{ message: 'Internal error' }] })
  })

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-powered-by', 'Contember 2')
    const authentication = await authenticate(ctx, request.headers.authorization)
    if (!authentication.ok) return unauthorized(reply, authentication.message)

    const input = readInput(request)
    if (typeof input === 'string') return badRequest(reply, input)
    const documentError = jsonDocumentError(input.query)
    if (documentError) return reply.code(400).type('application/json').send({ errors: formatErrors([documentError], request.log).errors })
    const variableError = unstorableVariableMessage(input.variables)
    if (variableError) return badRequest(reply, variableError)

    const source = { socketAddress: request.socket.remoteAddress, headers: request.headers }
    const client = clients.resolve(source, clients.namesEndClient(source) && await apiKeyTrustsForwardedInfo(ctx.db, authentication.auth.apiKeyId))
    // Last use, IP and user agent of the key (Identity.sessions), as the audit log sees the client, and a due
    // session prolongation: one write, off the request path.
    trackApiKeyUse(ctx, authentication.auth, { ip: client.ip, userAgent: client.userAgent })
    const context: Omit<GraphQLContext, 'reply'> = {
      ctx,
      auth: authentication.auth,
      actor: {
        identityId: authentication.auth.identityId,
        personId: authentication.auth.personId ?? undefined,
        ip: client.ip,
        userAgent: client.userAgent,
        forwarderIp: client.forwarded && client.peerIp !== client.ip ? client.peerIp : undefined,
        requestId: String(request.id),
      },
      // A mutation operation cannot be written without the word (the shorthand `{ … }` is a query);
      // the word elsewhere (a string, a name) only costs the request its snapshot.
      readOnly: !MUTATION_KEYWORD.test(input.query),
    }
    let result: ExecutionResult
    try {
      result = await reply.graphql(input.query, context as never, input.variables, input.operationName)
    } catch (error) {
      const graphqlErrors = (error as { errors?: GraphQLError[] }).errors
      if (!graphqlErrors) throw error
      const formatted = formatErrors(graphqlErrors, request.log)
      return reply.code(400).type('application/json').send({ errors: formatted.errors })
    }
    if (!result.errors?.length) return reply.code(200).send({ data: result.data })
    const formatted = formatErrors(result.errors, request.log)
    const status = statusFor(result, formatted)
    if (status === 503) reply.header('retry-after', RETRY_AFTER)
    return reply.code(status).send({ errors: formatted.errors, data: result.data ?? null })
  }
  app.route({ method: ['GET', 'POST'], url: '/tenant', handler })
}

const MUTATION_KEYWORD = /\bmutation\b/

/** JSON text can start so, and GraphQL text never does (a selection set starts with a name). */
const JSON_START = /^\s*(?:[[\d"-]|\{\s*["}]|(?:true|false|null)\s*$)/

/**
 * Mercurius runs a `query` that fails to parse but is JSON as a ready-made AST, unchecked by
 * the parser; a client must send GraphQL text, so such a query gets the parser's syntax error.
 */
function jsonDocumentError(query: string): GraphQLError | undefined {
  if (!JSON_START.test(query)) return undefined
  try {
    JSON.parse(query)
  } catch {
    return undefined
  }
  try {
    parse(query, { maxTokens: GRAPHQL_LIMITS.maxTokens })
  } catch (error) {
    if (error instanceof GraphQLError) return error
  }
  return new GraphQLError('Syntax Error: the query must be a GraphQL document.')
}

function readInput(request: FastifyRequest): { query: string, variables?: Record<string, unknown>, operationName?: string } | string {
  const source: GraphQLBody = request.method === 'GET' ? (request.query as GraphQLBody) : (request.body as GraphQLBody) ?? {}
  if (typeof source !== 'object' || source === null || typeof source.query !== 'string' || source.query === '') return 'Missing request query'
  let variables = source.variables
  if (typeof variables === 'string') {
    try {
      variables = JSON.parse(variables)
    } catch {
      return 'Variables must be a JSON object'
    }
  }
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    return 'Variables must be a JSON object'
  }
  if (source.operationName !== undefined && source.operationName !== null && typeof source.operationName !== 'string') {
    return 'operationName must be a string'
  }
  return {
    query: source.query,
    variables: (variables ?? undefined) as Record<string, unknown> | undefined,
    operationName: (source.operationName ?? undefined) as string | undefined,
  }
}
