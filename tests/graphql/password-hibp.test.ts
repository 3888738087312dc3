/**
 * password.checkHibp against a loopback server speaking Have I Been Pwned's range API: a breached
 * password is TOO_WEAK with COMPROMISED on sign-up, change and reset; only the five-digit prefix
 * reaches the server; a dead or slow breach list fails open.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { personSession, uniqueEmail } from '../helpers/accounts.js'

const BREACHED = 'correct-horse-battery-staple-2013'
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex').toUpperCase()

let hibp: Server
let mode: 'answer' | 'fail' | 'hang' = 'answer'
const requested: string[] = []
let server: TestServer

before(async () => {
  hibp = createServer((request, response) => {
    requested.push(request.url ?? '')
    if (mode === 'fail') return void response.writeHead(503).end()
    if (mode === 'hang') return
    const prefix = (request.url ?? '').replace('/range/', '')
    const breached = sha1(BREACHED)
    // A real answer: many suffixes, padding with count 0, CRLF line ends.
    const lines = [`${'0'.repeat(35)}:3`, `${'F'.repeat(35)}:0`]
    if (breached.startsWith(prefix)) lines.push(`${breached.slice(5)}:4211`)
    response.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\r\n'))
  })
  await new Promise<void>((resolve) => hibp.listen(0, '127.0.0.1', resolve))
  server = await startTestServer({ env: { HIBP_API_URL: `http://127.0.0.1:${(hibp.address() as AddressInfo).port}` } })
})
after(async () => {
  await server.close()
  hibp.closeAllConnections()
  await new Promise((resolve) => hibp.close(resolve))
})

const SIGN_UP = 'mutation($email: String!, $password: String!) { signUp(email: $email, password: $password) { ok error { code weakPasswordReasons } } }'
const signUp = async (password: string) => (await gql(server.url, ROOT_TOKEN, SIGN_UP, { email: uniqueEmail(), password })).body.data.signUp

async function checkHibp(on: boolean) {
  const response = await gql(server.url, ROOT_TOKEN, 'mutation($on: Boolean) { configure(config: { password: { checkHibp: $on } }) { ok } }', { on })
  assert.equal(response.body.data.configure.ok, true, JSON.stringify(response.body))
}

test('off by default: no lookup is made', async () => {
  requested.length = 0
  assert.equal((await signUp(BREACHED)).ok, true)
  assert.deepEqual(requested, [])
})

test('on: a breached password is COMPROMISED, only the prefix is sent, other passwords pass', async () => {
  await checkHibp(true)
  requested.length = 0
  assert.deepEqual(await signUp(BREACHED), { ok: false, error: { code: 'TOO_WEAK', weakPasswordReasons: ['COMPROMISED'] } })
  assert.deepEqual(requested, [`/range/${sha1(BREACHED).slice(0, 5)}`])
  assert.equal((await signUp('an-unbreached-passphrase-9941')).ok, true)
})

test('on: changeMyPassword and changePassword refuse a breached password too', async () => {
  await checkHibp(true)
  const { password, personId, token } = await personSession(server.url)
  const mine = await gql(server.url, token, 'mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) { ok error { code weakPasswordReasons } } }', { c: password, n: BREACHED })
  assert.deepEqual(mine.body.data.changeMyPassword, { ok: false, error: { code: 'TOO_WEAK', weakPasswordReasons: ['COMPROMISED'] } })
  const theirs = await gql(server.url, ROOT_TOKEN, 'mutation($p: String!, $n: String!) { changePassword(personId: $p, password: $n) { ok error { code weakPasswordReasons } } }', { p: personId, n: BREACHED })
  assert.deepEqual(theirs.body.data.changePassword, { ok: false, error: { code: 'TOO_WEAK', weakPasswordReasons: ['COMPROMISED'] } })
})

test('fails open: a failing or hanging breach list lets the password through', async () => {
  await checkHibp(true)
  mode = 'fail'
  assert.equal((await signUp(BREACHED)).ok, true)
  mode = 'hang'
  const started = Date.now()
  assert.equal((await signUp(BREACHED)).ok, true)
  assert.ok(Date.now() - started < 5000, 'the lookup gives up after its timeout')
  mode = 'answer'
  await checkHibp(false)
})
