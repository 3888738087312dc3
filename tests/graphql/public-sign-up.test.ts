/** PUBLIC_SIGN_UP: off, the login token gets Contember's ForbiddenError; on, it may create plain persons only. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { sql } from 'drizzle-orm'
import { LOGIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { assertForbidden, signInToken, uniqueEmail } from '../helpers/accounts.js'

const SIGN_UP = 'mutation($email: String!, $password: String, $passwordHash: String, $roles: [String!]) { signUp(email: $email, password: $password, passwordHash: $passwordHash, roles: $roles) { ok error { code developerMessage weakPasswordReasons } result { person { id identity { id } } } } }'

let open: TestServer
let closed: TestServer
before(async () => {
  [open, closed] = await Promise.all([startTestServer({ env: { PUBLIC_SIGN_UP: 'true' } }), startTestServer()])
})
after(async () => { await Promise.all([open.close(), closed.close()]) })

test('off by default: the login token may not sign up (Contember\'s ForbiddenError)', async () => {
  assert.equal(closed.config.publicSignUp, false)
  assertForbidden(await gql(closed.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail(), password: 'Public-Pass-1' }), 'signUp', 'You are not allowed to sign up')
})

test('on: the login token creates a plain person who can sign in', async () => {
  const email = uniqueEmail('public')
  const response = await gql(open.url, LOGIN_TOKEN, SIGN_UP, { email, password: 'Public-Pass-1' })
  assert.equal(response.body.data.signUp.ok, true, JSON.stringify(response.body))
  const [row] = await open.runtime.database.rows<{ roles: string[] }>(sql`select i.roles from identity i join person p on p.identity_id = i.id where p.email = ${email}`)
  assert.deepEqual(row.roles, ['person'])
  assert.match(await signInToken(open.url, email, 'Public-Pass-1'), /^[0-9a-f]{40}$/)
})

test('on: roles and imported hashes are refused; the password policy applies with its reasons', async () => {
  for (const roles of [['super_admin'], ['project_admin'], ['login']]) {
    assertForbidden(await gql(open.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail(), password: 'Public-Pass-1', roles }), 'signUp', 'You are not allowed to sign up')
  }
  assertForbidden(await gql(open.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail(), passwordHash: '$2b$04$' + 'a'.repeat(53) }), 'signUp', 'You are not allowed to sign up')
  const weak = await gql(open.url, LOGIN_TOKEN, SIGN_UP, { email: uniqueEmail(), password: 'short' })
  assert.deepEqual(weak.body.data.signUp.error, { code: 'TOO_WEAK', developerMessage: 'Password is too weak. Minimum length is 8', weakPasswordReasons: ['TOO_SHORT'] })
})
