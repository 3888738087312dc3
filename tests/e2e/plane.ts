/**
 * What the tenant-plane stories share: a provisioning client (signed REST) and a GraphQL client
 * for the tenant's people, both over real HTTP against one server.
 */
import assert from 'node:assert/strict'
import { gql } from '../helpers/http.js'
import { LOGIN_TOKEN } from '../helpers/server.js'
import type { TestServer } from '../helpers/server.js'
import { call } from '../rest/client.js'

export const MEMBER = [{ role: 'content_admin', variables: [] }]
export const ADMIN = [{ role: 'admin', variables: [] }]

export const PROVISIONER_AGENT = 'provisioner/1.0'

/** A signed REST call, as a provisioning script makes it, that must answer `status`. */
export async function rest(server: TestServer, method: string, path: string, status: number, body?: unknown) {
  const response = await call(server, method, path, { body, headers: { 'user-agent': PROVISIONER_AGENT } })
  assert.equal(response.status, status, `${method} ${path}: ${response.text}`)
  return response
}

const PAYLOAD = 'ok error { code developerMessage }'

export async function unmanagedInvite(server: TestServer, token: string, slug: string, email: string, memberships = MEMBER) {
  const response = await gql(server.url, token, `mutation($email: String!, $slug: String!, $m: [MembershipInput!]!) {
    unmanagedInvite(email: $email, projectSlug: $slug, memberships: $m, options: { password: "Invitee-password-1" }) { ${PAYLOAD} result { person { id identity { id } } } } }`,
  { email, slug, m: memberships })
  return response
}

export async function invite(server: TestServer, token: string, slug: string, email: string, memberships = MEMBER) {
  return gql(server.url, token, `mutation($email: String!, $slug: String!, $m: [MembershipInput!]!) {
    invite(email: $email, projectSlug: $slug, memberships: $m) { ${PAYLOAD} result { person { id identity { id } } } } }`,
  { email, slug, m: memberships })
}

export async function signIn(server: TestServer, email: string, password: string) {
  return gql(server.url, LOGIN_TOKEN, `mutation($email: String!, $password: String!) {
    signIn(email: $email, password: $password) { ${PAYLOAD} result { token person { id identity { id } } } } }`, { email, password })
}

export const TENANT_FIELDS = 'tenant { id hostname isEnabled plan { id } limits usage { users admins } }'

export async function projectBySlug(server: TestServer, token: string, slug: string) {
  const response = await gql(server.url, token, `query($slug: String!) { projectBySlug(slug: $slug) { slug ${TENANT_FIELDS} } }`, { slug })
  assert.equal(response.status, 200, response.text)
  return response.body.data.projectBySlug as null | { slug: string, tenant: null | Record<string, any> }
}

/** Asserts a business payload's outcome: ok, or the given error code. */
export function assertOutcome(response: { body: any }, field: string, expected: true | string): void {
  const result = response.body.data?.[field]
  assert.ok(result, JSON.stringify(response.body))
  if (expected === true) assert.equal(result.ok, true, JSON.stringify(result))
  else {
    assert.equal(result.ok, false, JSON.stringify(result))
    assert.equal(result.error.code, expected)
  }
}
