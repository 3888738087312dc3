/**
 * Several nodes as a scaled deployment runs them: three server processes on different loopback
 * ports, one private PostgreSQL reached through PgBouncer in transaction-pooling mode, one
 * private Redis. Migrations run once when all start together; a revoked session is refused
 * everywhere at once; concurrent creates of one tenant id give one 201; a tenant made on A is in
 * B's Traefik config within one snapshot period.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rawRequest } from '../helpers/http.js'
import { connect, inconsistencies, recordFigures, rows, totalInconsistent, type Sql } from './checks.js'
import { API_KEY, graphql, LOGIN_TOKEN, PREFIX, rest, ROOT_TOKEN, serviceVars } from './env.js'
import { PgBouncer, PgCluster, RedisServer, startNode, stopNode, waitFor, type NodeProcess } from './infra.js'

let cluster: PgCluster
let bouncer: PgBouncer
let redis: RedisServer
let sql: Sql
let nodes: NodeProcess[] = []

before(async () => {
  cluster = await PgCluster.create()
  await cluster.createDatabase('nodes')
  // server_round_robin: consecutive transactions of one client land on different server
  // connections, which is what breaks session-level state such as a session advisory lock.
  bouncer = await PgBouncer.create(cluster, { server_round_robin: '1', default_pool_size: '10' })
  redis = await RedisServer.create()
  sql = connect(cluster.url('nodes'))
})
after(async () => {
  for (const node of nodes) await stopNode(node)
  await sql?.end()
  await redis?.stop()
  await bouncer?.destroy()
  await cluster?.destroy()
})

test('three nodes start together through PgBouncer (transaction pooling): migrations applied exactly once', async () => {
  const vars = serviceVars({ DATABASE_URL: bouncer.url('nodes', '?pgbouncer=true'), REDIS_URL: redis.url })
  nodes = await Promise.all([0, 1, 2].map(() => startNode(vars)))
  for (const node of nodes) assert.equal((await rawRequest(`${node.url}/health/ready`)).status, 200)
  const [{ n }] = await rows<{ n: number }>(sql, 'select count(*)::int as n from drizzle.__drizzle_migrations')
  const [{ files }] = await rows<{ files: number }>(sql, 'select count(distinct hash)::int as files from drizzle.__drizzle_migrations')
  assert.equal(n, files, 'no migration recorded twice')
  const [{ locks }] = await rows<{ locks: number }>(sql, "select count(*)::int as locks from pg_locks where locktype = 'advisory'")
  assert.equal(locks, 0, 'no advisory lock left behind on a pooled server connection')
  recordFigures({ part: 'nodes: start together', inputs: 3, notes: [`${n} migrations recorded once each; 0 advisory locks left`] })
})

test('a session revoked on node A is refused on B and C immediately', async () => {
  const [a, b, c] = nodes
  const email = 'multi.node@example.com'
  const up = await graphql(a.url, ROOT_TOKEN, 'mutation($e: String!) { signUp(email: $e, password: "Multi-Node-Pass-1") { ok } }', { e: email })
  assert.equal(up.body.data.signUp.ok, true, up.text)
  const signIn = await graphql(b.url, LOGIN_TOKEN, 'mutation($e: String!) { signIn(email: $e, password: "Multi-Node-Pass-1") { ok result { token } } }', { e: email })
  const token = signIn.body.data.signIn.result.token as string
  for (const node of nodes) assert.equal((await graphql(node.url, token, '{ me { id } }')).status, 200, 'valid everywhere before')
  const out = await graphql(a.url, token, 'mutation { signOut { ok } }')
  assert.equal(out.body.data.signOut.ok, true, out.text)
  const after = await Promise.all([b, c, a].map((node) => graphql(node.url, token, '{ me { id } }')))
  recordFigures({ part: 'nodes: revocation', inputs: 7, notes: [`after sign-out on A: ${after.map((r) => r.status).join('/')} on B/C/A`] })
  assert.deepEqual(after.map((r) => r.status), [401, 401, 401])
})

test('concurrent POST /tenants of one id across the nodes: one 201, the others 409', async () => {
  const results = []
  for (let round = 0; round < 5; round++) {
    const id = `race${round}`
    const statuses = await Promise.all(nodes.flatMap((node) => [0, 1].map(() => rest(node.url, 'POST', '/tenants', { id, hostname: `${id}.example.com`, is_enabled: true }).then((r) => r.status))))
    results.push(statuses.sort().join(','))
    assert.equal(statuses.filter((s) => s === 201).length, 1, statuses.join(','))
    assert.ok(statuses.every((s) => s === 201 || s === 409), statuses.join(','))
  }
  const found = await inconsistencies(sql)
  recordFigures({ part: 'nodes: concurrent create', inputs: 30, rowsInconsistent: totalInconsistent(found), requestsLost: 0, notes: results.slice(0, 1).map((r) => `statuses per round: ${r}`) })
  assert.equal(totalInconsistent(found), 0)
})

test('a tenant created on node A appears in node B\'s Traefik config within one snapshot period (5 s)', async () => {
  const [a, b] = nodes
  const traefik = async (node: NodeProcess) => (await rawRequest(`${node.url}${PREFIX}/config/traefik`, { headers: { 'x-api-key': API_KEY } })).text
  await traefik(b) // B now holds a snapshot without the tenant
  assert.equal((await rest(a.url, 'POST', '/tenants', { id: 'polled1', hostname: 'polled1.example.com', is_enabled: true })).status, 201)
  const createdAt = Date.now()
  await waitFor('the tenant in B\'s Traefik config', async () => (await traefik(b)).includes('polled1.example.com'), 5_000 + 1_000, 250)
  recordFigures({ part: 'nodes: Traefik propagation', inputs: 1, notes: [`seen on B after ${Date.now() - createdAt} ms (bound 5000 ms + one poll)`] })
})

test('rate limits are global: wrong passwords spread over the three nodes are counted together', async () => {
  // Wrong passwords for one account spread over the three nodes: a global limiter counts them together.
  const email = 'limited@example.com'
  await graphql(nodes[0].url, ROOT_TOKEN, 'mutation($e: String!) { signUp(email: $e, password: "Limited-Pass-123") { ok } }', { e: email })
  const codes: string[] = []
  for (let i = 0; i < 12; i++) {
    const r = await graphql(nodes[i % 3].url, LOGIN_TOKEN, 'mutation($e: String!) { signIn(email: $e, password: "wrong-password") { ok error { code } } }', { e: email })
    codes.push(r.body?.data?.signIn?.error?.code ?? `HTTP ${r.status}`)
  }
  const limited = codes.filter((code) => /RATE|LIMIT|TOO_MANY/i.test(code)).length
  recordFigures({ part: 'nodes: rate limits', inputs: 12, notes: [`12 wrong passwords over 3 nodes: ${[...new Set(codes)].join(', ')} (${limited} limited)`] })
  assert.ok(codes.every((code) => code !== 'HTTP 500'))
  assert.ok(limited > 0 && limited < codes.length, 'attempts spread over the nodes are counted together')
})
