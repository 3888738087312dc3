/**
 * With REDIS_URL the rate-limit windows are shared between nodes: two server processes on one
 * Redis count one client's attempts together. With Redis unreachable, sign-in fails closed.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { LOGIN_TOKEN, ROOT_TOKEN, createPostgresDatabase, onPostgres, startTestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { uniqueEmail } from '../helpers/accounts.js'
import { deleteRedisPrefix, REDIS_URL, redisKeys, startServerProcess, uniqueRedisPrefix, type ServerProcess } from '../helpers/redis.js'

const SIGN_IN = 'mutation($email: String!) { signIn(email: $email, password: "Not-The-Password-1") { ok error { code developerMessage retryAfter } } }'
const prefix = uniqueRedisPrefix()
let nodes: ServerProcess[] = []
let dropDatabase: (() => Promise<void>) | undefined

before(async () => {
  // On PostgreSQL both nodes share one database, as a real deployment does; embedded, each has its own.
  let databaseUrl: string | undefined
  if (onPostgres) {
    const created = await createPostgresDatabase()
    databaseUrl = created.url
    dropDatabase = created.drop
  }
  const env = { REDIS_URL, RATE_LIMIT_REDIS_PREFIX: prefix, DATABASE_URL: databaseUrl }
  nodes = [await startServerProcess(env)]
  nodes.push(await startServerProcess(env))
  for (const node of nodes) {
    const response = await gql(node.url, ROOT_TOKEN, 'mutation { configure(config: { rateLimits: { loginPerIp: { limit: 3, window: "PT1H" } } }) { ok } }')
    assert.equal(response.body.data.configure.ok, true)
  }
})
after(async () => {
  await Promise.all(nodes.map((node) => node.stop()))
  await dropDatabase?.()
  await deleteRedisPrefix(prefix)
})

test('two processes share one window: 3 attempts in total, whichever node answers', async () => {
  const [a, b] = nodes
  const codes: string[] = []
  for (const node of [a, b, a, b, a]) codes.push((await gql(node.url, LOGIN_TOKEN, SIGN_IN, { email: uniqueEmail() })).body.data.signIn.error.code)
  assert.deepEqual(codes, ['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMIT_EXCEEDED', 'RATE_LIMIT_EXCEEDED'])
})

test('Redis keys hold scopes and SHA-256 hashes only, never the address or e-mail', async () => {
  const keys = await redisKeys(prefix)
  const ipHash = createHash('sha256').update('127.0.0.1').digest('hex')
  assert.ok(keys.includes(`${prefix}loginPerIp:${ipHash}`), keys.join('\n'))
  for (const key of keys) assert.match(key.slice(prefix.length), /^(loginPerIp|loginFailure):[0-9a-f]{64}$/)
})

test('Redis unreachable: sign-in fails closed with RATE_LIMIT_EXCEEDED, retry after 5 s', async () => {
  const server = await startTestServer({ env: { REDIS_URL: 'redis://127.0.0.1:9', RATE_LIMIT_REDIS_PREFIX: uniqueRedisPrefix(), LOG_LEVEL: 'error' }, captureLogs: true })
  try {
    const response = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: uniqueEmail() })
    assert.deepEqual(response.body.data.signIn, { ok: false, error: { code: 'RATE_LIMIT_EXCEEDED', developerMessage: 'Rate limiting is temporarily unavailable. Retry later.', retryAfter: 5 } })
    assert.ok(server.logs.some((line) => line.includes('rate-limit store failed; the limited operation was refused')), 'the failure is logged')
  } finally {
    await server.close()
  }
})
