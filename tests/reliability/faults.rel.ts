/**
 * Faults under load, against a private PostgreSQL cluster (never the machine's): the database
 * stopped and started again, the server SIGKILLed mid-write and restarted, SIGTERM under load,
 * Redis gone with REDIS_URL set. Every request is checked against the database afterwards.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, inconsistencies, recordFigures, rows, totalInconsistent, type Sql } from './checks.js'
import { graphql, leaksInternals, LOGIN_TOKEN, rest, ROOT_EMAIL, ROOT_PASSWORD, ROOT_TOKEN, serviceVars, shortId } from './env.js'
import { PgCluster, RedisServer, sleep, startNode, stopNode, waitFor, type NodeProcess } from './infra.js'
import { cleanFailure, succeeded, WriteLoad, type Outcome } from './load.js'
import { isDeepStrictEqual } from 'node:util'
import { rawRequest, type HttpResponse } from '../helpers/http.js'

let cluster: PgCluster
const nodes: NodeProcess[] = []
const clients: Sql[] = []
before(async () => { cluster = await PgCluster.create() })
after(async () => {
  for (const node of nodes) await stopNode(node)
  for (const client of clients) await client.end()
  await cluster?.destroy()
})

async function freshDatabase(): Promise<{ url: string, sql: Sql }> {
  await cluster.start()
  const url = await cluster.createDatabase(shortId('f'))
  const sql = connect(url)
  clients.push(sql)
  return { url, sql }
}

async function start(url: string, extra: Record<string, string> = {}): Promise<NodeProcess> {
  const node = await startNode(serviceVars({ DATABASE_URL: url, ...extra }))
  nodes.push(node)
  return node
}

const ready = async (node: NodeProcess) => (await rawRequest(`${node.url}/health/ready`)).status

/** Checks every recorded answer against the rows: a success must be there in full. */
async function audit(sql: Sql, outcomes: Outcome[]): Promise<{ lost: number, unclean: Outcome[] }> {
  let lost = 0
  const unclean: Outcome[] = []
  for (const outcome of outcomes) {
    if (typeof outcome.status !== 'number') { lost++; continue }
    if (succeeded(outcome)) {
      const [row] = outcome.op === 'tenant'
        ? await rows<{ n: number }>(sql, 'select count(*)::int as n from tenant t join project p on p.id = t.project_id where t.id = $1', [outcome.key])
        : outcome.op === 'install'
          ? await rows<{ n: number }>(sql, 'select count(*)::int as n from project_username u join tenant t on t.project_id = u.project_id where t.id = $1', [outcome.key])
          : await rows<{ n: number }>(sql, 'select count(*)::int as n from person p join project_membership m on m.identity_id = p.identity_id where p.email = $1', [`invitee@${outcome.key}.example.com`])
      if (row.n < 1) lost++
    } else if (!cleanFailure(outcome)) {
      unclean.push(outcome)
    }
  }
  return { lost, unclean }
}

test('PostgreSQL stopped under load and started again: readiness 503 then 200, no restart, nothing lost or half-written', async () => {
  const { url, sql } = await freshDatabase()
  const node = await start(url)
  const load = new WriteLoad(() => node.url, 4)
  load.start()
  await waitFor('some successful writes', async () => load.outcomes.filter(succeeded).length >= 10, 30_000)
  await cluster.stop('fast')
  await waitFor('readiness 503 while the database is down', async () => (await ready(node)) === 503, 15_000)
    .catch((error) => { throw new Error(`${(error as Error).message}\nexit ${node.child.exitCode}\n${node.output().slice(-3000)}`) })
  await sleep(1500)
  const duringOutage = load.outcomes.length
  await cluster.start()
  await waitFor('readiness 200 after the database returned', async () => (await ready(node)) === 200, 30_000)
  const afterRecovery = load.outcomes.length
  await waitFor('successful writes after recovery', async () => load.outcomes.slice(afterRecovery).filter(succeeded).length >= 5, 30_000)
  await load.stop()
  assert.equal(node.child.exitCode, null, 'the server kept running')

  const { lost, unclean } = await audit(sql, load.outcomes)
  const found = await inconsistencies(sql)
  const failedDuring = load.outcomes.filter((o) => !succeeded(o)).length
  recordFigures({
    part: 'faults: PostgreSQL stop/start', inputs: load.outcomes.length, faultsInjected: 1, faultsSurvived: lost === 0 && totalInconsistent(found) === 0 ? 1 : 0,
    requestsLost: lost, rowsInconsistent: totalInconsistent(found),
    notes: [`${failedDuring} requests failed cleanly during the outage (${duringOutage} sent before restart)`, `statuses while down: ${[...new Set(load.outcomes.filter((o) => !succeeded(o)).map((o) => o.status))].join(',')}`],
  })
  assert.deepEqual(unclean.map((o) => `${o.op} ${o.status} ${o.text?.slice(0, 200)}`), [], 'every failure is an answer in our error shape')
  assert.equal(lost, 0, 'every acknowledged write is in the database')
  assert.deepEqual(found, Object.fromEntries(Object.keys(found).map((k) => [k, 0])))
})

test('SIGKILL in the middle of tenant create, install and invite, then restart: no partial state', async () => {
  const { url, sql } = await freshDatabase()
  const rounds = 3
  let outcomes: Outcome[] = []
  let survived = 0
  for (let round = 0; round < rounds; round++) {
    const node = await start(url)
    const load = new WriteLoad(() => node.url, 6)
    load.start()
    await waitFor('writes in flight', async () => load.outcomes.length >= 8 + round * 4, 30_000)
    node.kill('SIGKILL')
    await node.exited
    await load.stop()
    outcomes = outcomes.concat(load.outcomes)
    const restarted = await start(url)
    assert.equal(await ready(restarted), 200)
    const found = await inconsistencies(sql)
    if (totalInconsistent(found) === 0) survived++
    assert.deepEqual(found, Object.fromEntries(Object.keys(found).map((k) => [k, 0])), `after kill ${round + 1}`)
    await stopNode(restarted)
  }
  // Answers given before the kill must be true; requests cut by the kill have no answer by design.
  const answered = outcomes.filter((o) => typeof o.status === 'number')
  const { lost } = await audit(sql, answered)
  const found = await inconsistencies(sql)
  recordFigures({
    part: 'faults: SIGKILL mid-write', inputs: outcomes.length, faultsInjected: rounds, faultsSurvived: survived,
    requestsLost: lost, rowsInconsistent: totalInconsistent(found),
    notes: [
      `${outcomes.length - answered.length} requests got no answer (cut by a kill, or sent to the dead server): nothing was promised`,
      `acknowledged: ${(['tenant', 'install', 'invite'] as const).map((op) => `${op} ${outcomes.filter((o) => o.op === op && succeeded(o)).length}`).join(', ')}`,
    ],
  })
  assert.equal(lost, 0)
})

test('SIGTERM under load: in-flight requests complete, new connections are refused, exit 0 within the bound', async () => {
  const { url, sql } = await freshDatabase()
  const node = await start(url, { LOG_LEVEL: 'info' })
  const ids = Array.from({ length: 12 }, () => shortId())
  for (const id of ids) assert.equal((await rest(node.url, 'POST', '/tenants', { id, hostname: `${id}.example.com`, is_enabled: true })).status, 201)
  // Hold the tenant rows locked, so that every install is provably inside the server (waiting in
  // its transaction, or for a pool connection) when the signal arrives.
  const holder = await sql.connect()
  await holder.query('begin')
  await holder.query('select id from tenant where id = any($1) for update', [ids])
  const inFlight = ids.map((id) => rest(node.url, 'POST', `/tenants/${id}/install`, { username: `adm_${id.slice(1, 9)}`, email: `a@${id}.example.com`, password: 'install-pass-1' })
    .then((r) => r.status, (e: Error) => `error ${e.message}`))
  await waitFor('the installs to wait on the locked rows', async () => {
    const [{ n }] = await rows<{ n: number }>(sql, "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()")
    return n >= Math.min(ids.length, 10)
  }, 20_000, 20)
  const signalledAt = Date.now()
  node.kill('SIGTERM')
  await waitFor('the server to start shutting down', async () => node.output().includes('shutting down'), 10_000, 5)
  const late = await rest(node.url, 'GET', '/tenants').then((r) => `status ${r.status}`, (e: NodeJS.ErrnoException) => e.code)
  await holder.query('commit')
  holder.release()
  const { code } = await node.exited
  const exitMs = Date.now() - signalledAt
  const statuses = await Promise.all(inFlight)
  const refused = await rest(node.url, 'GET', '/tenants').then((r) => `status ${r.status}`, (e: NodeJS.ErrnoException) => e.code)
  const [installed] = await rows<{ n: number }>(sql, 'select count(*)::int as n from project_username')
  const lost = statuses.filter((s) => s !== 201).length
  recordFigures({
    part: 'faults: SIGTERM under load', inputs: ids.length * 2 + 1, faultsInjected: 1, faultsSurvived: code === 0 && lost === 0 ? 1 : 0,
    requestsLost: lost, rowsInconsistent: totalInconsistent(await inconsistencies(sql)), notes: [`exit ${code} after ${exitMs} ms; ${installed.n} installs committed`],
  })
  assert.deepEqual(statuses, ids.map(() => 201), 'every in-flight install completed')
  assert.equal(installed.n, ids.length)
  assert.equal(code, 0)
  assert.ok(exitMs < 10_000, `exited after ${exitMs} ms`)
  assert.ok(['ECONNREFUSED', 'ECONNRESET', 'status 503'].includes(late ?? ''), `a request after the signal: ${late}`)
  assert.equal(refused, 'ECONNREFUSED')
})

const SIGN_IN = 'mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { ok error { code developerMessage retryAfter } result { token } } }'
/** The refusal README documents while the rate-limit store is unreachable (src/domain/abuse/rate-limit.ts). */
const STORE_DOWN = { code: 'RATE_LIMIT_EXCEEDED', developerMessage: 'Rate limiting is temporarily unavailable. Retry later.', retryAfter: 5 }
/** ioredis reconnects at most 2 s apart (redis-store.ts): sign-in must work again well within this. */
const REDIS_RECOVERY_BOUND_MS = 10_000

test('Redis down with REDIS_URL set: sign-in fails closed with the documented RATE_LIMIT_EXCEEDED, the rest keeps answering; sign-in and the limit return with Redis', async () => {
  const redis = await RedisServer.create()
  try {
    const { url, sql } = await freshDatabase()
    const node = await start(url, { REDIS_URL: redis.url })
    const limit = 4
    const configured = await graphql(node.url, ROOT_TOKEN, `mutation { configure(config: { rateLimits: { loginPerIp: { limit: ${limit}, window: "PT1H" } } }) { ok } }`)
    assert.equal(configured.body?.data?.configure?.ok, true, configured.text)
    let sent = 0
    const signIn = async () => { sent++; return graphql(node.url, LOGIN_TOKEN, SIGN_IN, { e: ROOT_EMAIL, p: ROOT_PASSWORD }) }
    const answer = (r: HttpResponse) => r.body?.data?.signIn as { ok: boolean, error: typeof STORE_DOWN | null, result: { token: string } | null } | undefined
    assert.equal(answer(await signIn())?.ok, true, 'sign-in works with Redis up')

    await redis.stop()
    const refusals: { status: number, ms: number, text: string, signIn: unknown }[] = []
    for (let i = 0; i < 5; i++) {
      const at = Date.now()
      const r = await signIn()
      refusals.push({ status: r.status, ms: Date.now() - at, text: r.text, signIn: answer(r) })
    }
    const me = await graphql(node.url, ROOT_TOKEN, '{ me { id } }')
    const unknownToken = await graphql(node.url, 'f'.repeat(40), '{ me { id } }')
    const readiness = await rawRequest(`${node.url}/health/ready`)
    sent += 3

    const restartedAt = Date.now()
    await redis.start()
    const recovered = await waitFor('sign-in to work again after Redis returned', async () => {
      const r = await signIn()
      return answer(r)?.ok === true ? answer(r) : false
    }, REDIS_RECOVERY_BOUND_MS, 200)
    const recoveryMs = Date.now() - restartedAt
    const session = await graphql(node.url, recovered!.result!.token, '{ me { person { email } } }')
    sent++
    // The limit is enforced again, not lifted: the new Redis (no persistence) counts from recovery on.
    const afterRecovery: string[] = []
    while (afterRecovery.length <= limit) {
      const a = answer(await signIn())
      afterRecovery.push(a?.ok ? 'ok' : `${a?.error?.code}: ${a?.error?.developerMessage}`)
      if (!a?.ok) break
    }
    const allowedAfterRecovery = 1 + afterRecovery.filter((a) => a === 'ok').length
    const limitedAgain = /^RATE_LIMIT_EXCEEDED: Too many attempts from this address\. Retry after \d+s\.$/.test(afterRecovery.at(-1)!)

    const refusedAsDocumented = refusals.filter((r) => r.status === 200 && isDeepStrictEqual(r.signIn, { ok: false, error: STORE_DOWN, result: null }) && !leaksInternals(r.text))
    const unanswered = [...refusals.map((r) => r.status), me.status, unknownToken.status, readiness.status, session.status].filter((status) => status >= 500).length
    const found = await inconsistencies(sql)
    const survived = refusedAsDocumented.length === refusals.length && me.status === 200 && session.status === 200 && limitedAgain
    recordFigures({
      part: 'faults: Redis down', inputs: sent, faultsInjected: 1, faultsSurvived: survived ? 1 : 0,
      requestsLost: unanswered, rowsInconsistent: totalInconsistent(found),
      notes: [
        `while down: ${refusedAsDocumented.length}/${refusals.length} sign-ins refused with RATE_LIMIT_EXCEEDED retryAfter 5 (slowest ${Math.max(...refusals.map((r) => r.ms))} ms); me ${me.status}, unknown token ${unknownToken.status}, readiness ${readiness.status} (it checks the database only)`,
        `sign-in worked again ${recoveryMs} ms after Redis restarted (bound ${REDIS_RECOVERY_BOUND_MS} ms); ${allowedAfterRecovery} sign-ins counted as allowed since then before the loginPerIp limit (${limit}/h) refused again (an attempt refused mid-reconnection may already count)`,
      ],
    })
    assert.deepEqual(refusals.map((r) => [r.status, r.signIn, leaksInternals(r.text)]), refusals.map(() => [200, { ok: false, error: STORE_DOWN, result: null }, false]))
    assert.equal(me.status, 200, `operations without a limit keep answering: ${me.text}`)
    assert.equal(unknownToken.status, 401, 'an unknown token is still refused (tokens are checked in the database)')
    assert.deepEqual([readiness.status, readiness.body], [200, { status: 'ok', database: 'up' }], 'readiness is about the database; Redis down does not take the node out')
    assert.match(node.output(), /rate-limit store failed; the limited operation was refused/, 'each refusal is logged')
    assert.ok(recoveryMs < REDIS_RECOVERY_BOUND_MS)
    assert.equal(session.body?.data?.me?.person?.email, ROOT_EMAIL, 'the session issued after recovery works')
    // Attempts counted by the new Redis during reconnection may use up part of the window, never more than it.
    assert.ok(limitedAgain && allowedAfterRecovery <= limit, `after recovery: ${afterRecovery.join(' | ')}`)
    assert.equal(unanswered, 0)
    assert.deepEqual(found, Object.fromEntries(Object.keys(found).map((k) => [k, 0])))
    assert.equal(node.child.exitCode, null, 'the server kept running')
  } finally {
    await redis.stop()
  }
})
