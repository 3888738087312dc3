/**
 * Security cases, each a test: signatures, constant-time comparison (source check), the Traefik
 * endpoint from a non-loopback peer (our own network namespace), token entropy and hashing, a
 * pg_dump and the trace-level logs free of every plaintext secret, injection attempts, and the
 * authorization matrix generated from the schema and the REST route table.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { rawRequest, type HttpResponse } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { hmacHex, KEY_SECRET, nowSeconds, restEnv, strongHeader } from '../rest/client.js'
import { restRouteTable } from '../../src/rest/route-table.js'
import { connect, digest, digestDiff, rows, securityCounter, type Sql } from './checks.js'
import { API_KEY, graphql, LOGIN_TOKEN, PREFIX, REQUEST_SECRET, rest, ROOT_PASSWORD, ROOT_TOKEN, serviceVars, TEST_ENCRYPTION_KEY } from './env.js'
import { document, operations, variablesFor } from './graphql-ops.js'
import { PgCluster, startNode, stopNode, waitFor } from './infra.js'

const cases = securityCounter('security cases')
let cluster: PgCluster
let server: TestServer
let sql: Sql
let databaseName: string
/** Every plaintext secret this file creates or configures: none may reach the dump or the logs. */
const plaintexts = new Map<string, string>()
const ROTATED_SECRET = 'rotated-request-secret-42'

before(async () => {
  cluster = await PgCluster.create()
  databaseName = 'security'
  const url = await cluster.createDatabase(databaseName)
  server = await startTestServer({
    env: restEnv({ DATABASE_URL: url, LOG_LEVEL: 'trace', TENANTS_API_REQUEST_SECRET: `${REQUEST_SECRET},${ROTATED_SECRET}` }),
    captureLogs: true,
  })
  sql = connect(url)
  for (const [name, value] of Object.entries({ ROOT_TOKEN, LOGIN_TOKEN, ROOT_PASSWORD, API_KEY, REQUEST_SECRET, ROTATED_SECRET, KEY_SECRET, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY })) plaintexts.set(name, value)
})
after(async () => {
  cases.record()
  await sql?.end()
  await server?.close()
  await cluster?.destroy()
})

const PERSON_PASSWORD = 'Person-Secret-Pass-91'
async function signUpAndIn(email: string): Promise<{ token: string, identityId: string }> {
  const up = await graphql(server.url, ROOT_TOKEN, 'mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { ok result { person { identity { id } } } } }', { e: email, p: PERSON_PASSWORD })
  assert.equal(up.body.data.signUp.ok, true, up.text)
  const signIn = await graphql(server.url, LOGIN_TOKEN, 'mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { ok result { token } } }', { e: email, p: PERSON_PASSWORD })
  assert.equal(signIn.body.data.signIn.ok, true, signIn.text)
  return { token: signIn.body.data.signIn.result.token, identityId: up.body.data.signUp.result.person.identity.id }
}

function send(method: string, path: string, body: string, signature: string | undefined, overridePath = path): Promise<HttpResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': API_KEY }
  if (signature !== undefined) headers['x-signature'] = signature
  return rawRequest(`${server.url}${PREFIX}${overridePath}`, { method, headers, body: body || undefined })
}

test('signatures: legacy and strong accepted; replay, expiry, wrong method/path, one-byte tamper refused; rotation', async () => {
  const body = JSON.stringify({ id: 'sig1', hostname: 'sig1.example.com', is_enabled: true })
  const path = '/tenants'
  const target = `${PREFIX}${path}`
  await cases.run(async () => assert.equal((await send('POST', '/auth/verify', '{}', hmacHex(REQUEST_SECRET, '{}'))).status, 200))
  const strong = strongHeader(REQUEST_SECRET, nowSeconds(), 'POST', target, body)
  await cases.run(async () => assert.equal((await send('POST', path, body, strong)).status, 201))
  await cases.run(async () => assert.equal((await send('POST', path, body, strong)).body.code, 'SIGNATURE_REPLAYED'))
  await cases.run(async () => assert.equal((await send('POST', path, body, strongHeader(REQUEST_SECRET, nowSeconds() - 3600, 'POST', target, body))).body.code, 'SIGNATURE_EXPIRED'))
  await cases.run(async () => assert.equal((await send('PATCH', '/tenants/sig1', '{"is_enabled":false}', strongHeader(REQUEST_SECRET, nowSeconds(), 'POST', `${PREFIX}/tenants/sig1`, '{"is_enabled":false}'))).status, 401))
  await cases.run(async () => assert.equal((await send('PATCH', '/tenants/sig1', '{"is_enabled":false}', strongHeader(REQUEST_SECRET, nowSeconds(), 'PATCH', `${PREFIX}/tenants/other`, '{"is_enabled":false}'))).status, 401))
  await cases.run(async () => {
    // Flip each byte position of the body once: every tampered body is refused.
    const edit = '{"hostname":"sig1b.example.com"}'
    for (let i = 0; i < edit.length; i++) {
      const tampered = edit.slice(0, i) + String.fromCharCode(edit.charCodeAt(i) ^ 1) + edit.slice(i + 1)
      assert.equal((await send('PATCH', '/tenants/sig1', tampered, hmacHex(REQUEST_SECRET, edit))).status, 401, `byte ${i}`)
    }
  })
  await cases.run(async () => {
    assert.equal((await send('POST', '/auth/verify', '{}', hmacHex(ROTATED_SECRET, '{}'))).status, 200, 'the second (new) secret is accepted during rotation')
    assert.equal((await send('POST', '/auth/verify', '{}', hmacHex('retired-secret', '{}'))).status, 401, 'a secret not configured is refused')
  })
})

test('constant-time comparison: timingSafeEqual on equal-length buffers, used for every secret comparison (source check)', async () => {
  await cases.run(() => {
    const tokens = readFileSync(new URL('../../src/domain/crypto/tokens.ts', import.meta.url), 'utf8')
    assert.match(tokens, /if \(left\.length !== right\.length\)[\s\S]*?return false[\s\S]*?return timingSafeEqual\(left, right\)/)
    for (const file of ['src/domain/tenants-api/signature.ts', 'src/domain/tenants-api/api-keys.ts']) {
      const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')
      assert.match(source, /constantTimeEqual\(/, file)
      assert.doesNotMatch(source, /(mac|signature|expected|hash|key)\s*===\s*\w+|\w+\s*===\s*(mac|expected|header)\b/i, `${file} compares a secret with ===`)
    }
  })
})

test('Traefik endpoint from a non-loopback address is 403, even with X-Forwarded-For: 127.0.0.1 (own network namespace)', async () => {
  const ns = `tgrel${process.pid % 100000}`
  const host = '10.231.77.1'
  const peer = '10.231.77.2'
  const node = await startNode(serviceVars({ DATABASE_URL: await cluster.createDatabase('traefik'), HOST: '0.0.0.0' }))
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' })
  try {
    ip('netns', 'add', ns)
    ip('link', 'add', `${ns}h`, 'type', 'veth', 'peer', 'name', `${ns}p`)
    ip('link', 'set', `${ns}p`, 'netns', ns)
    ip('addr', 'add', `${host}/30`, 'dev', `${ns}h`)
    ip('link', 'set', `${ns}h`, 'up')
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${peer}/30`, 'dev', `${ns}p`)
    ip('netns', 'exec', ns, 'ip', 'link', 'set', `${ns}p`, 'up')
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up')
    const fromNamespace = (forwarded: boolean) => execFileSync('ip', ['netns', 'exec', ns, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10',
      '-H', `X-API-Key: ${API_KEY}`, ...(forwarded ? ['-H', 'X-Forwarded-For: 127.0.0.1', '-H', 'X-Real-IP: 127.0.0.1'] : []),
      `http://${host}:${node.port}${PREFIX}/config/traefik`], { encoding: 'utf8' })
    await waitFor('the namespace to reach the server', async () => fromNamespace(false) !== '000', 10_000, 200)
    await cases.run(() => assert.equal(fromNamespace(false), '403'))
    await cases.run(() => assert.equal(fromNamespace(true), '403'))
    await cases.run(async () => assert.equal((await rawRequest(`${node.url}${PREFIX}/config/traefik`, { headers: { 'x-api-key': API_KEY } })).status, 200, 'loopback is allowed'))
  } finally {
    try { ip('link', 'del', `${ns}h`) } catch { /* gone with the namespace */ }
    try { ip('netns', 'del', ns) } catch { /* not created */ }
    await stopNode(node)
  }
})

test('tokens: at least 128 bits of entropy, unique, and stored only hashed', async () => {
  const sessions = await Promise.all(Array.from({ length: 5 }, (_, i) => signUpAndIn(`entropy${i}@example.com`)))
  const key = await graphql(server.url, ROOT_TOKEN, 'mutation { createGlobalApiKey(description: "sec", roles: []) { ok result { apiKey { token } } } }')
  const tokens = [...sessions.map((s) => s.token), key.body.data.createGlobalApiKey.result.apiKey.token as string]
  tokens.forEach((token, i) => plaintexts.set(`token${i}`, token))
  await cases.run(() => {
    for (const token of tokens) assert.match(token, /^[a-f0-9]{40}$/, '20 random bytes = 160 bits')
    assert.equal(new Set(tokens).size, tokens.length)
  })
  await cases.run(async () => {
    const stored = await rows<{ token_hash: string }>(sql, 'select token_hash from api_key')
    for (const token of tokens) assert.ok(!stored.some((r) => r.token_hash === token), 'no token stored in plain')
    for (const row of stored) assert.match(row.token_hash, /^[a-f0-9]{64}$/)
  })
})

test('a pg_dump of a populated database holds no usable token, password, secret or env value', async () => {
  const secrets = {
    tenantEnv: 'tenant-env-secret-value-7731', planEnv: 'plan-env-secret-value-5521', projectSecret: 'project-secret-value-8812',
    idpSecret: 'idp-client-secret-value-3390', installPassword: 'Install-Pass-Word-443',
  }
  for (const [name, value] of Object.entries(secrets)) plaintexts.set(name, value)
  assert.equal((await rest(server.url, 'POST', '/tenants-plans', { id: 'secplan', env: { P: secrets.planEnv } })).status, 201)
  assert.equal((await rest(server.url, 'POST', '/tenants', { id: 'sect', hostname: 'sect.example.com', is_enabled: true, plan_id: 'secplan', env: { T: secrets.tenantEnv } })).status, 201)
  assert.equal((await rest(server.url, 'POST', '/tenants/sect/install', { username: 'secadmin', email: 'secadmin@example.com', password: secrets.installPassword })).status, 201)
  const reset = await rest(server.url, 'PATCH', '/tenants/sect/user-password-reset', { username: 'secadmin' })
  assert.equal(reset.status, 200)
  plaintexts.set('generatedPassword', reset.body.password)
  const secret = await graphql(server.url, ROOT_TOKEN, 'mutation($v: String!) { setProjectSecret(projectSlug: "sect", key: "k", value: $v) { ok } }', { v: secrets.projectSecret })
  assert.equal(secret.body.data.setProjectSecret.ok, true, secret.text)
  const idp = await graphql(server.url, ROOT_TOKEN, 'mutation($c: Json!) { addIDP(identityProvider: "corp", type: "oidc", configuration: $c) { ok } }', { c: { url: 'https://idp.example.com', clientId: 'c1', clientSecret: secrets.idpSecret } })
  assert.equal(idp.body.data.addIDP.ok, true, idp.text)
  plaintexts.set('personPassword', PERSON_PASSWORD)
  const dump = cluster.dump(databaseName)
  await cases.run(() => {
    assert.ok(dump.includes('sect.example.com'), 'the dump is of the populated database')
    const found = [...plaintexts].filter(([, value]) => dump.includes(value)).map(([name]) => name)
    assert.deepEqual(found, [], 'plaintexts present in the dump')
  })
})

test('SQL and header injection in string inputs: refused or stored as data, never executed or reflected into headers', async () => {
  const payloads = ["'; drop table tenant; --", '" or 1=1 --', "x' union select token_hash from api_key --", 'a\r\nX-Injected: 1', 'a\nSet-Cookie: s=1']
  await cases.run(async () => {
    for (const payload of payloads) {
      const created = await rest(server.url, 'POST', '/tenants', { id: payload, hostname: `${payload}.example.com`, is_enabled: true })
      assert.equal(created.status, 400, created.text)
      assert.equal(created.headers.get('x-injected'), null)
      const signIn = await graphql(server.url, LOGIN_TOKEN, 'mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { ok error { code } } }', { e: payload, p: payload })
      assert.equal(signIn.body.data.signIn.ok, false)
      const byId = await graphql(server.url, ROOT_TOKEN, 'query($id: String!) { personById(id: $id) { id } }', { id: payload })
      assert.ok(byId.status < 500, byId.text)
      const got = await rest(server.url, 'GET', `/tenants/${encodeURIComponent(payload)}`)
      assert.ok(got.status === 404 || got.status === 400, got.text)
    }
    const [{ n }] = await rows<{ n: number }>(sql, 'select count(*)::int as n from tenant')
    assert.ok(n >= 1, 'the tenant table is still there')
    const echoed = await rawRequest(`${server.url}/health/live`, { headers: { 'x-request-id': 'abc%0d%0aX-Injected:%201' } })
    assert.notEqual(echoed.headers.get('x-request-id'), 'abc%0d%0aX-Injected:%201', 'a request id outside [\\w.-] is replaced')
  })
})

/**
 * Who may call what. Every operation of the schema must be listed (a new one fails this test
 * until someone decides): `self` = any signed-in person on their own account, `public` = the
 * login token's flows, `admin` = must be refused to a plain person and to the login token.
 */
const ACCESS: Record<string, 'self' | 'public' | 'admin'> = {
  me: 'self', projects: 'self', persons: 'self', projectBySlug: 'self', globalApiKeys: 'self', signOut: 'self', changeMyProfile: 'self',
  changeMyPassword: 'self', enableMyPasswordless: 'self', disableMyPasswordless: 'self', disconnectMyIdentityProvider: 'self', prepareOtp: 'self',
  confirmOtp: 'self', disableOtp: 'self', regenerateBackupCodes: 'self', initEmailOtp: 'self', confirmEmailOtp: 'self', disableEmailOtp: 'self',
  revokeSession: 'self', requestEmailVerification: 'self', verifyEmail: 'self', confirmEmailChange: 'self', projectMemberships: 'self',
  identityProviders: 'self', configuration: 'self', mailTemplates: 'self', authPolicies: 'self',
  signIn: 'public', signUp: 'public', checkResetPasswordToken: 'public', initSignInIDP: 'public', signInIDP: 'public', initSignInPasswordless: 'public',
  signInPasswordless: 'public', activatePasswordlessOtp: 'public', createResetPasswordRequest: 'public', resetPassword: 'public',
  personById: 'admin', authLog: 'admin', createSessionToken: 'admin', changeProfile: 'admin', changePassword: 'admin', addIDP: 'admin', updateIDP: 'admin',
  disableIDP: 'admin', enableIDP: 'admin', disablePerson: 'admin', forceSignOutPerson: 'admin', resetPersonMfa: 'admin', invite: 'admin',
  unmanagedInvite: 'admin', addProjectMember: 'admin', removeProjectMember: 'admin', updateProjectMember: 'admin', createApiKey: 'admin',
  createGlobalApiKey: 'admin', disableApiKey: 'admin', addGlobalIdentityRoles: 'admin', removeGlobalIdentityRoles: 'admin', addMailTemplate: 'admin',
  removeMailTemplate: 'admin', createProject: 'admin', setProjectSecret: 'admin', updateProject: 'admin', configure: 'admin', createAuthPolicy: 'admin',
  updateAuthPolicy: 'admin', deleteAuthPolicy: 'admin', addProjectMailTemplate: 'admin', removeProjectMailTemplate: 'admin',
}

/** Arguments a super_admin would succeed with, for the operations where escalation matters most. */
function validArgs(name: string, me: string, rootIdentity: string): Record<string, unknown> | undefined {
  const table: Record<string, Record<string, unknown>> = {
    addGlobalIdentityRoles: { identityId: me, roles: ['super_admin'] },
    createGlobalApiKey: { description: 'x', roles: ['super_admin'] },
    createProject: { projectSlug: 'escalate', name: 'x' },
    createSessionToken: { email: 'root@example.com' },
    disablePerson: { personId: rootIdentity },
    configure: { config: { passwordless: { enabled: 'always' } } },
    invite: { email: 'victim@example.com', projectSlug: 'sect', memberships: [{ role: 'admin', variables: [] }] },
    addProjectMember: { projectSlug: 'sect', identityId: me, memberships: [{ role: 'admin', variables: [] }] },
    setProjectSecret: { projectSlug: 'sect', key: 'k', value: 'stolen' },
  }
  return table[name]
}

function refused(response: HttpResponse, field: string): boolean {
  if (response.status === 401 || response.status === 403) return true
  const data = response.body?.data?.[field]
  if (response.body?.errors?.length) return data === null || data === undefined
  if (data === null || data === undefined) return true
  if (Array.isArray(data)) return data.length === 0
  return data.ok === false
}

test('authorization matrix: every GraphQL operation and REST route refuses the callers it must refuse', async () => {
  const ops = operations()
  await cases.run(() => assert.deepEqual(ops.map((op) => op.field.name).filter((name) => !(name in ACCESS)), [], 'operations without an ACCESS entry'))
  const person = await signUpAndIn('plain.person@example.com')
  const [root] = await rows<{ id: string }>(sql, "select p.id from person p where p.email = 'root@example.com'")
  const failures: string[] = []
  for (const op of ops) {
    const query = document(op)
    const samples = fc.sample(variablesFor(op), { numRuns: 2, seed: 8 })
    const valid = validArgs(op.field.name, person.identityId, String(root?.id))
    const argSets = valid ? [Object.fromEntries(op.field.args.map((arg, i) => [`a${i}`, valid[arg.name]])), ...samples] : samples
    for (const variables of argSets) {
      const anonymous = await graphql(server.url, undefined, query, variables)
      if (anonymous.status !== 401) failures.push(`${op.field.name}: anonymous got ${anonymous.status}`)
      if (ACCESS[op.field.name] !== 'admin') continue
      for (const [who, token] of [['person', person.token], ['login token', LOGIN_TOKEN]] as const) {
        const before = await digest(sql)
        const response = await graphql(server.url, token, query, variables)
        if (!refused(response, op.field.name)) failures.push(`${op.field.name} as ${who}: ${response.text.slice(0, 200)}`)
        const changed = digestDiff(before, await digest(sql))
        if (changed.length) failures.push(`${op.field.name} as ${who} changed ${changed.join(', ')}`)
      }
    }
  }
  await cases.run(() => assert.deepEqual(failures, []))
  const routes = restRouteTable(server.runtime.app.server)
  await cases.run(async () => {
    assert.ok(routes.length >= 12, `${routes.length} REST routes`)
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, 'sect')
      const noKey = await rawRequest(`${server.url}${path}`, { method: route.method, headers: { 'content-type': 'application/json', 'x-signature': hmacHex(REQUEST_SECRET, '') } })
      assert.equal(noKey.status, 401, `${route.method} ${route.url} without a key`)
      const badKey = await rawRequest(`${server.url}${path}`, { method: route.method, headers: { 'content-type': 'application/json', 'x-api-key': `${API_KEY}x`, 'x-signature': hmacHex(REQUEST_SECRET, '') } })
      assert.equal(badKey.status, 401, `${route.method} ${route.url} with a wrong key`)
      if (!route.url.includes('traefik')) {
        const unsigned = await rawRequest(`${server.url}${path}`, { method: route.method, headers: { 'content-type': 'application/json', 'x-api-key': API_KEY } })
        assert.equal(unsigned.status, 401, `${route.method} ${route.url} unsigned`)
      }
    }
  })
})

test('logs at trace level hold no password, token, API key, signature, secret or env value', async () => {
  await cases.run(() => {
    const logs = server.logs.join('')
    assert.ok(logs.length > 10_000, 'trace logs were captured')
    const found = [...plaintexts].filter(([, value]) => logs.includes(value)).map(([name]) => name)
    assert.deepEqual(found, [], 'plaintexts in the logs')
    const signature = hmacHex(REQUEST_SECRET, '{}')
    assert.ok(!logs.includes(signature), 'a request signature in the logs')
  })
})
