/**
 * Logs at the most verbose level carry requests with every kind of credential, and none of the
 * secret strings appears in any log line: bearer tokens, X-API-Key, X-Signature, cookies,
 * passwords in GraphQL variables, literals and query strings, bodies that fail to parse, and the
 * configured bootstrap secrets.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { gql, rawRequest, request } from '../helpers/http.js'
import { startTestServer, TEST_ENCRYPTION_KEY, type TestServer } from '../helpers/server.js'

const secret = (label: string) => `${label}${randomBytes(12).toString('hex')}`
const ROOT = randomBytes(20).toString('hex')
const LOGIN = randomBytes(20).toString('hex')
const SECRETS = {
  rootToken: ROOT,
  loginToken: LOGIN,
  rootPassword: secret('RootPw'),
  apiKey: secret('ApiKey').padEnd(40, 'k'),
  requestSecret: secret('ReqSecret'),
  tenantEnv: secret('EnvValue'),
  cookie: secret('Cookie'),
  variablePassword: secret('VarPw'),
  literalPassword: secret('LitPw'),
  queryStringPassword: secret('QsPw'),
  brokenBodyPassword: secret('BrokenPw'),
  restPassword: secret('RestPw'),
  encryptionKey: TEST_ENCRYPTION_KEY,
}
const signed = new Set<string>()
/** Chevereto's X-Signature: hex HMAC-SHA256 of the raw body; each one is a secret too. */
function sign(body: string): string {
  const signature = createHmac('sha256', SECRETS.requestSecret).update(body).digest('hex')
  signed.add(signature)
  return signature
}

let server: TestServer
before(async () => {
  server = await startTestServer({
    captureLogs: true,
    env: {
      LOG_LEVEL: 'trace', CONTEMBER_ROOT_TOKEN: ROOT, CONTEMBER_LOGIN_TOKEN: LOGIN, CONTEMBER_ROOT_PASSWORD: SECRETS.rootPassword,
      TENANTS_API_KEY: SECRETS.apiKey, TENANTS_API_REQUEST_SECRET: SECRETS.requestSecret,
    },
  })
})
after(async () => { await server.close() })

const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok } }'

test('requests carrying every kind of secret leave none of them in the logs', async () => {
  const url = server.url
  assert.equal((await gql(url, ROOT, '{ me { id } }')).status, 200)
  await gql(url, LOGIN, SIGN_IN, { email: 'root@example.com', password: SECRETS.variablePassword })
  await gql(url, LOGIN, SIGN_IN, { email: 'root@example.com', password: SECRETS.rootPassword })
  await gql(url, LOGIN, `mutation { signIn(email: "root@example.com", password: "${SECRETS.literalPassword}") { ok } }`)
  const variables = encodeURIComponent(JSON.stringify({ email: 'a@b.c', password: SECRETS.queryStringPassword }))
  await request(`${url}/tenant?query=${encodeURIComponent(SIGN_IN)}&variables=${variables}`, { headers: { authorization: `Bearer ${LOGIN}` } })
  // A body that fails to parse must not be echoed into an error log.
  await rawRequest(`${url}/tenant`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${LOGIN}` },
    body: `{"query":"${SIGN_IN}","variables":{"password":"${SECRETS.brokenBodyPassword}"`,
  })
  const rest = async (path: string, payload: unknown, extra: Record<string, string> = {}) => {
    const body = JSON.stringify(payload)
    return rawRequest(`${url}/_/api/4${path}`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-api-key': SECRETS.apiKey, 'x-signature': sign(body), ...extra },
    })
  }
  const created = await rest('/tenants', { id: 'acme', hostname: 'acme.example.com', is_enabled: true, env: { SMTP_PASSWORD: SECRETS.tenantEnv } },
    { cookie: `session=${SECRETS.cookie}`, authorization: `Bearer ${ROOT}` })
  assert.equal(created.status, 201, created.text)
  const installed = await rest('/tenants/acme/install', { username: 'admin', email: 'admin@acme.example.com', password: SECRETS.restPassword })
  assert.ok(installed.status < 300, installed.text)
  // Failures are logged too: a wrong signature and an unknown key.
  assert.equal((await rest('/tenants', { id: 'other' }, { 'x-signature': 'f'.repeat(64) })).status, 401)
  assert.equal((await rest('/tenants', { id: 'other' }, { 'x-api-key': SECRETS.apiKey.toUpperCase() })).status, 401)

  const logs = server.logs.join('')
  // The requests were logged with their headers, so the check below is not vacuous; credential
  // headers are not on the logged allow-list at all.
  assert.ok(server.logs.length >= 8, `expected request logs, got ${server.logs.length} lines`)
  assert.match(logs, /"headers":\{"host":/)
  assert.doesNotMatch(logs, /"(authorization|x-api-key|x-signature|cookie)":/i)
  for (const [name, value] of [...Object.entries(SECRETS), ...[...signed].map((v) => ['signature', v])]) {
    const line = server.logs.find((l) => l.includes(value))
    assert.equal(line, undefined, `${name} appears in a log line: ${line}`)
  }
})
