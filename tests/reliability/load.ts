/**
 * A bounded write load of multi-step operations (tenant create = project + tenant + audit;
 * install = identity + person + membership + username + audit; invite over GraphQL), recording
 * what every request answered so the test can check each one against the database afterwards.
 */
import type { HttpResponse } from '../helpers/http.js'
import { sleep } from './infra.js'
import { graphql, leaksInternals, rest, ROOT_TOKEN, shortId } from './env.js'

export interface Outcome {
  op: 'tenant' | 'install' | 'invite'
  key: string
  status: number | 'no-response' | 'timeout'
  body?: any
  text?: string
}

const REQUEST_BOUND_MS = 20_000

async function bounded(promise: Promise<HttpResponse>): Promise<HttpResponse | 'no-response' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise.catch(() => 'no-response' as const),
      new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), REQUEST_BOUND_MS) }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

const INVITE = `mutation($email: String!, $slug: String!) {
  invite(email: $email, projectSlug: $slug, memberships: [{ role: "admin", variables: [] }]) { ok error { code } } }`

export class WriteLoad {
  readonly outcomes: Outcome[] = []
  private running = false
  private workers: Promise<void>[] = []

  constructor(private readonly url: () => string, private readonly concurrency = 4, private readonly maxRequests = 5000) {}

  start(): void {
    this.running = true
    for (let i = 0; i < this.concurrency; i++) this.workers.push(this.worker())
  }

  async stop(): Promise<void> {
    this.running = false
    await Promise.all(this.workers)
  }

  private async send(op: Outcome['op'], key: string, call: Promise<HttpResponse>): Promise<Outcome> {
    const answer = await bounded(call)
    const outcome: Outcome = typeof answer === 'string'
      ? { op, key, status: answer }
      : { op, key, status: answer.status, body: answer.body, text: answer.text }
    this.outcomes.push(outcome)
    return outcome
  }

  private async worker(): Promise<void> {
    while (this.running && this.outcomes.length < this.maxRequests) {
      const id = shortId()
      const created = await this.send('tenant', id, rest(this.url(), 'POST', '/tenants', { id, hostname: `${id}.example.com`, is_enabled: true }))
      // A failing dependency answers fast: back off instead of spinning.
      if (created.status !== 201) await sleep(100)
      if (created.status !== 201 || !this.running) continue
      await this.send('install', id, rest(this.url(), 'POST', `/tenants/${id}/install`, { username: `adm_${id.slice(1, 9)}`, email: `admin@${id}.example.com`, password: 'install-pass-1' }))
      if (!this.running) continue
      await this.send('invite', id, graphql(this.url(), ROOT_TOKEN, INVITE, { email: `invitee@${id}.example.com`, slug: id }))
    }
  }
}

/** A clean failure: an HTTP answer in our error shape, without internals. */
export function cleanFailure(outcome: Outcome): boolean {
  if (typeof outcome.status !== 'number') return false
  if (outcome.text && leaksInternals(outcome.text)) return false
  if (outcome.op === 'invite') return outcome.status === 200 ? outcome.body?.data?.invite?.ok === false || Array.isArray(outcome.body?.errors) : Array.isArray(outcome.body?.errors)
  return outcome.status >= 400 && typeof outcome.body?.code === 'string' && typeof outcome.body?.message === 'string'
}

export function succeeded(outcome: Outcome): boolean {
  if (outcome.op === 'invite') return outcome.status === 200 && outcome.body?.data?.invite?.ok === true
  return outcome.status === 201
}
