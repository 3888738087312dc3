/**
 * The load generator, in its own process: autocannon against one path for a bounded time, with
 * rotating tokens and paths and fresh strong-form signatures, so that the server sees realistic,
 * non-replayed requests.
 */
import { createHmac } from 'node:crypto'
import autocannon from 'autocannon'
import { serveParent } from './lib/ipc.js'

export type RequestPlan =
  | { kind: 'static', method: 'GET' | 'POST', path: string, headers?: Record<string, string>, body?: string }
  /** GraphQL POST with a bearer token rotating over `tokens`. */
  | { kind: 'graphql', path: string, tokens: string[], query: string }
  /** GraphQL signIn through the login token, rotating over persons. */
  | { kind: 'signIn', path: string, loginToken: string, emails: string[], password: string }
  /** Signed REST GET rotating over `paths`; the strong form signs a fresh (t, path) every time. */
  | { kind: 'signed', form: 'legacy' | 'strong', paths: string[], apiKey: string, secret: string }

export interface LoadJob {
  url: string
  plan: RequestPlan
  connections: number
  durationSec: number
  warmupSec: number
}

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  requests: number
  non2xx: number
  errors: number
  /** Mean response size (headers and body), from autocannon's byte count. */
  bytesPerResponse: number
  statusCodes: Record<string, number>
}

/**
 * The requests of a plan. Where requests can repeat (rotating tokens and paths), they are static
 * entries that autocannon serialises once, as it does for the bounds' one static request: the
 * load generator shares the 2 cores with the server, so a path must not pay for request building
 * that its bound does not. Only requests that must differ every time (fresh strong signatures,
 * sign-in bodies) are built per request.
 */
function requestsOf(plan: RequestPlan): autocannon.Request[] {
  let counter = 0
  switch (plan.kind) {
    case 'static':
      return [{ method: plan.method, path: plan.path, headers: plan.headers, body: plan.body }]
    case 'graphql': {
      const body = JSON.stringify({ query: plan.query })
      return plan.tokens.map((token) => ({
        method: 'POST', path: plan.path, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      }))
    }
    case 'signIn': {
      const query = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok error { code } result { token } } }'
      return [{
        method: 'POST', path: plan.path,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${plan.loginToken}` },
        setupRequest(request) {
          const email = plan.emails[counter++ % plan.emails.length]
          request.body = JSON.stringify({ query, variables: { email, password: plan.password } })
          return request
        },
      }]
    }
    case 'signed': {
      if (plan.form === 'legacy') {
        // The legacy form signs the (empty) body only: one signature serves every path.
        const signature = createHmac('sha256', plan.secret).update('').digest('hex')
        return plan.paths.map((path) => ({ method: 'GET', path, headers: { 'x-api-key': plan.apiKey, 'x-signature': signature } }))
      }
      const start = Math.floor(Date.now() / 1000)
      return [{
        method: 'GET', path: plan.paths[0],
        setupRequest(request) {
          const n = counter++
          const path = plan.paths[n % plan.paths.length]
          // Unique per request: each (path, t) pair is used once; t steps back one second per
          // full rotation over the paths, staying well inside the 300 s tolerance.
          const t = start - Math.floor(n / plan.paths.length)
          request.path = path
          request.headers = { 'x-api-key': plan.apiKey, 'x-signature': `t=${t},v1=${createHmac('sha256', plan.secret).update(`${t}\nGET\n${path}\n`).digest('hex')}` }
          return request
        },
      }]
    }
  }
}

function run(job: LoadJob, durationSec: number, requests: autocannon.Request[]): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url: job.url, connections: job.connections, duration: durationSec, requests, timeout: 30 }, (error, result) => {
      if (error) reject(error)
      else resolve(result)
    })
  })
}

async function load(job: LoadJob): Promise<LoadResult> {
  const requests = requestsOf(job.plan)
  if (job.warmupSec > 0) await run(job, job.warmupSec, requests)
  const result = await run(job, job.durationSec, requests)
  const statusCodes: Record<string, number> = {}
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number((stat as { count: number | string }).count)
  const ok = result['2xx']
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    bytesPerResponse: result.requests.total > 0 ? result.throughput.total / result.requests.total : 0,
    statusCodes,
  }
}

serveParent({ pid: process.pid }, { load })
