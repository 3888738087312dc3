/** Transcript §A and §B: authentication before GraphQL, Contember's 401/400 bodies, `me`. */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { LOGIN_TOKEN, ROOT_EMAIL, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql, rawRequest, request } from '../helpers/http.js'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server.close() })

const post = (headers: Record<string, string>, body: string) =>
  request(`${server.url}/tenant`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })

test('401 bodies match Contember exactly', async () => {
  const cases: [Record<string, string>, string][] = [
    [{}, 'Authentication required'],
    [{ authorization: 'Basic Zm9vOmJhcg==' }, 'Authorization failure: invalid Authorization header format'],
    [{ authorization: 'Bearer abc-def' }, 'Authorization failure: invalid Authorization header format'],
    [{ authorization: 'Bearer ffffffffffffffffffffffffffffffffffffffff' }, 'Authorization failure: API key was not found'],
    [{ authorization: 'Bearer abc' }, 'Authorization failure: API key was not found'],
  ]
  for (const [headers, message] of cases) {
    const response = await post(headers, '{"query":"{ me { id } }"}')
    assert.equal(response.status, 401)
    assert.equal(response.text, JSON.stringify({ errors: [{ code: 401, message }] }))
    assert.match(response.headers.get('content-type') ?? '', /application\/json/)
  }
})

test('bearer scheme is case-insensitive and tolerates several spaces', async () => {
  const response = await post({ authorization: `bearer   ${ROOT_TOKEN}` }, '{"query":"{ me { id } }"}')
  assert.equal(response.status, 200)
  assert.match(response.body.data.me.id, /^[0-9a-f-]{36}$/)
})

test('missing query, malformed JSON, syntax and validation errors are 400', async () => {
  const auth = { authorization: `Bearer ${ROOT_TOKEN}` }
  const get = await request(`${server.url}/tenant`, { headers: auth })
  assert.equal(get.status, 400)
  assert.equal(get.text, '{"errors":[{"message":"Missing request query"}]}')
  const empty = await post(auth, '{}')
  assert.equal(empty.status, 400)
  assert.equal(empty.text, '{"errors":[{"message":"Missing request query"}]}')
  const malformed = await post(auth, '{"query": ')
  assert.equal(malformed.status, 400)
  assert.equal(malformed.text, 'Bad Request')
  const syntax = await post(auth, '{"query":"{ me { id "}')
  assert.equal(syntax.status, 400)
  assert.deepEqual(syntax.body, { errors: [{ message: 'Syntax Error: Expected Name, found <EOF>.', locations: [{ line: 1, column: 11 }] }] })
  const validation = await post(auth, '{"query":"{ me { id nope } }"}')
  assert.equal(validation.status, 400)
  assert.deepEqual(validation.body, { errors: [{ message: 'Cannot query field "nope" on type "Identity".', locations: [{ line: 1, column: 11 }] }] })
})

test('me with the root token: super_admin with the root person', async () => {
  const response = await gql(server.url, ROOT_TOKEN, 'query { me { id roles description person { id email name otpEnabled } apiKey { id } permissions { canCreateProject canDeployEntrypoint } } }')
  assert.equal(response.status, 200)
  const me = response.body.data.me
  assert.deepEqual(me.roles, ['super_admin', 'person'])
  assert.equal(me.description, null)
  assert.equal(me.apiKey, null)
  assert.deepEqual(me.person, { id: me.person.id, email: ROOT_EMAIL, name: null, otpEnabled: false })
  assert.deepEqual(me.permissions, { canCreateProject: true, canDeployEntrypoint: true })
  assert.equal(response.headers.get('x-powered-by'), 'Contember 2')
})

test('me with the login token: role login, no person', async () => {
  const response = await gql(server.url, LOGIN_TOKEN, '{ me { id roles person { id } permissions { canCreateProject canDeployEntrypoint } } }')
  assert.equal(response.status, 200)
  assert.deepEqual(response.body.data.me.roles, ['login'])
  assert.equal(response.body.data.me.person, null)
  assert.deepEqual(response.body.data.me.permissions, { canCreateProject: false, canDeployEntrypoint: false })
})

test('GET with query works; CORS preflight allows X-Contember-Token-Path', async () => {
  const get = await request(`${server.url}/tenant?query=${encodeURIComponent('{ me { id } }')}`, { headers: { authorization: `Bearer ${ROOT_TOKEN}` } })
  assert.equal(get.status, 200)
  assert.ok(get.body.data.me.id)
  const preflight = await rawRequest(`${server.url}/tenant`, {
    method: 'OPTIONS',
    headers: { origin: 'https://admin.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization,x-contember-token-path' },
  })
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*')
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /x-contember-token-path/i)
})
