/** Creating the callers tests need (persons with roles, their sessions, global keys) over GraphQL. */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { LOGIN_TOKEN, ROOT_TOKEN } from './server.js'
import { gql } from './http.js'

export const PASSWORD = 'Correct-Horse-9'

export function uniqueEmail(prefix = 'person'): string {
  return `${prefix}.${randomBytes(4).toString('hex')}@example.com`
}

export interface TestPerson {
  email: string
  password: string
  personId: string
  identityId: string
}

/** A person created by the root token with the given extra global roles. */
export async function createPerson(url: string, options: { email?: string, password?: string, roles?: string[], name?: string } = {}): Promise<TestPerson> {
  const email = options.email ?? uniqueEmail()
  const password = options.password ?? PASSWORD
  const response = await gql(url, ROOT_TOKEN,
    'mutation($email: String!, $password: String, $roles: [String!], $name: String) { signUp(email: $email, password: $password, roles: $roles, name: $name) { ok error { code developerMessage } result { person { id identity { id } } } } }',
    { email, password, roles: options.roles, name: options.name })
  assert.equal(response.body.data?.signUp?.ok, true, JSON.stringify(response.body))
  const person = response.body.data.signUp.result.person
  return { email, password, personId: person.id, identityId: person.identity.id }
}

/** A session token for the person (signIn with the login token). */
export async function signInToken(url: string, email: string, password: string, expiration?: number): Promise<string> {
  const response = await gql(url, LOGIN_TOKEN,
    'mutation($email: String!, $password: String!, $expiration: Int) { signIn(email: $email, password: $password, expiration: $expiration) { ok error { code developerMessage } result { token } } }',
    { email, password, expiration })
  assert.equal(response.body.data?.signIn?.ok, true, JSON.stringify(response.body))
  return response.body.data.signIn.result.token
}

/** A signed-in person with the given global roles (['person'] is always added). */
export async function personSession(url: string, roles: string[] = []): Promise<TestPerson & { token: string }> {
  const created = await createPerson(url, { roles })
  return { ...created, token: await signInToken(url, created.email, created.password) }
}

/** A permanent key of a new identity with these global roles. */
export async function globalKey(url: string, roles: string[]): Promise<{ token: string, identityId: string, apiKeyId: string }> {
  const response = await gql(url, ROOT_TOKEN,
    'mutation($roles: [String!]) { createGlobalApiKey(description: "test key", roles: $roles) { ok result { apiKey { id token identity { id } } } } }',
    { roles })
  assert.equal(response.body.data?.createGlobalApiKey?.ok, true, JSON.stringify(response.body))
  const apiKey = response.body.data.createGlobalApiKey.result.apiKey
  return { token: apiKey.token, identityId: apiKey.identity.id, apiKeyId: apiKey.id }
}

/** Asserts Contember's ForbiddenError shape: HTTP 200 (or 400 for non-null roots), data.<field> null. */
export function assertForbidden(response: { status: number, body: any }, field: string, message: string, status = 200): void {
  assert.equal(response.status, status, JSON.stringify(response.body))
  assert.equal(response.body.errors.length, 1)
  const [error] = response.body.errors
  assert.equal(error.message, message)
  assert.deepEqual(error.path, [field])
  assert.deepEqual(error.extensions, { code: 'ForbiddenError' })
  assert.ok(Array.isArray(error.locations))
  if (status === 200) assert.deepEqual(response.body.data, { [field]: null })
  else assert.equal(response.body.data, null)
}
