/**
 * One request before each measured path: a path whose endpoint or resolver does not exist yet
 * is reported as "n/a (not implemented)" instead of failing the whole run or measuring 404s.
 */
import { createHmac } from 'node:crypto'
import type { RequestPlan } from './load.js'

async function send(base: string, path: string, init: RequestInit): Promise<{ status: number, text: string, body: any }> {
  const response = await fetch(`${base}${path}`, init)
  const text = await response.text()
  let body: any
  try { body = JSON.parse(text) } catch { body = undefined }
  return { status: response.status, text, body }
}

const snippet = (text: string) => text.replace(/\s+/g, ' ').slice(0, 120)

export async function probe(base: string, plan: RequestPlan): Promise<string | undefined> {
  switch (plan.kind) {
    case 'static': {
      const r = await send(base, plan.path, { method: plan.method, headers: plan.headers, body: plan.body })
      if (r.status === 404) return 'n/a (not implemented)'
      return r.status >= 200 && r.status < 300 ? undefined : `failed: ${r.status} ${snippet(r.text)}`
    }
    case 'graphql': {
      const r = await send(base, plan.path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${plan.tokens[0]}` }, body: JSON.stringify({ query: plan.query }) })
      if (r.status === 200 && !r.body?.errors) return undefined
      return `not available: ${r.status} ${snippet(r.body?.errors?.[0]?.message ?? r.text)}`
    }
    case 'signIn': {
      // The last person of the rotation: its session row does not disturb the measured ones.
      const email = plan.emails[plan.emails.length - 1]
      const query = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok error { code } result { token } } }'
      const r = await send(base, plan.path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${plan.loginToken}` }, body: JSON.stringify({ query, variables: { email, password: plan.password } }) })
      if (r.body?.data?.signIn?.ok === true) return undefined
      if (r.status === 200 && r.body?.data?.signIn === null && !r.body.errors) return 'n/a (not implemented)'
      return `not available: ${r.status} ${snippet(r.text)}`
    }
    case 'signed': {
      const path = plan.paths[plan.paths.length - 1]
      // A timestamp the load generator never uses (it counts down from "now" in whole rotations).
      const t = Math.floor(Date.now() / 1000) + 60
      const signature = plan.form === 'legacy'
        ? createHmac('sha256', plan.secret).update('').digest('hex')
        : `t=${t},v1=${createHmac('sha256', plan.secret).update(`${t}\nGET\n${path}\n`).digest('hex')}`
      const r = await send(base, path, { headers: { 'x-api-key': plan.apiKey, 'x-signature': signature } })
      if (r.status === 404 && /Route .* not found/.test(r.text)) return 'n/a (not implemented)'
      return r.status === 200 ? undefined : `failed: ${r.status} ${snippet(r.text)}`
    }
  }
}
