/**
 * Strings PostgreSQL cannot store (the NUL character, unpaired UTF-16 surrogates) in GraphQL
 * arguments: refused before execution with a 400 validation error naming the variable or the
 * argument path, never a 500, and nothing written. Well-formed Unicode (astral characters as
 * surrogate pairs) goes through. Odd bytes in headers that are stored (User-Agent) never 500.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { gql } from '../helpers/http.js'
import { LOGIN_TOKEN, ROOT_EMAIL, ROOT_PASSWORD, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server?.close() })

const NUL = 'nul\u0000byte'
const LONE = 'lone\ud800surrogate'

/** A refusal as graphql-js answers a bad variable: 400, errors only, no data, the given words. */
function assertRefused(response: { status: number, text: string, body: any }, message: RegExp) {
  assert.equal(response.status, 400, response.text)
  assert.equal(response.body.data, undefined, response.text)
  assert.equal(response.body.errors.length, 1, response.text)
  assert.match(response.body.errors[0].message, message, response.text)
  assert.doesNotMatch(response.text, /Internal|invalid byte sequence|unsupported Unicode/)
}

async function projectSlugs(): Promise<string[]> {
  const response = await gql(server.url, ROOT_TOKEN, '{ projects { slug } }')
  assert.equal(response.status, 200, response.text)
  return response.body.data.projects.map((p: { slug: string }) => p.slug).sort()
}

const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok error { code } } }'
const CREATE_PROJECT = 'mutation($slug: String!, $name: String, $config: Json) { createProject(projectSlug: $slug, name: $name, config: $config) { ok error { code } } }'

test('signIn: NUL or a lone surrogate in email or password is a 400 naming the variable, not a 500', async () => {
  assertRefused(await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: `a${NUL}@example.com`, password: 'x' }),
    /^Variable "\$email" got invalid value at "email"; String must not contain the NUL character \(U\+0000\)\.$/)
  assertRefused(await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: ROOT_EMAIL, password: NUL }), /^Variable "\$password" .*NUL character/)
  assertRefused(await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: ROOT_EMAIL, password: LONE }),
    /^Variable "\$password" got invalid value at "password"; String must not contain an unpaired UTF-16 surrogate/)
  // A trailing surrogate alone is as unpaired as a leading one.
  assertRefused(await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: `\udc00${ROOT_EMAIL}`, password: 'x' }), /^Variable "\$email" .*unpaired/)
  // The same arguments written in the document: the argument is named and located.
  const literal = await gql(server.url, LOGIN_TOKEN, 'mutation { signIn(email: "a\\u0000@example.com", password: "x") { ok } }')
  assertRefused(literal, /^Argument "email" of field "signIn" got invalid value at "email"; String must not contain the NUL character/)
  assert.deepEqual(literal.body.errors[0].locations, [{ line: 1, column: 26 }])
  // The refusal does not count as a failed attempt: the right password still signs in.
  const ok = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: ROOT_EMAIL, password: ROOT_PASSWORD })
  assert.equal(ok.body.data.signIn.ok, true, ok.text)
})

test('createProject: NUL in the name, deep in the Json config, or in a literal list creates nothing', async () => {
  const before = await projectSlugs()
  assertRefused(await gql(server.url, ROOT_TOKEN, CREATE_PROJECT, { slug: 'nul-name', name: NUL }), /^Variable "\$name" got invalid value at "name"; .*NUL/)
  assertRefused(await gql(server.url, ROOT_TOKEN, CREATE_PROJECT, { slug: 'lone-name', name: LONE }), /^Variable "\$name" .*unpaired/)
  assertRefused(await gql(server.url, ROOT_TOKEN, CREATE_PROJECT, { slug: 'nul-config', config: { acl: { roles: { editor: { tags: ['ok', NUL] } } } } }),
    /^Variable "\$config" got invalid value at "config\.acl\.roles\.editor\.tags\[1\]"; String must not contain the NUL character/)
  assertRefused(await gql(server.url, ROOT_TOKEN, CREATE_PROJECT, { slug: 'nul-key', config: { [`a${NUL}`]: 1 } }),
    /^Variable "\$config" got invalid value at "config"; keys must not contain the NUL character/)
  const literal = await gql(server.url, ROOT_TOKEN, 'mutation { createProject(projectSlug: "nul-literal", config: { a: [1, { b: "\\u0000" }] }) { ok } }')
  assertRefused(literal, /^Argument "config" of field "createProject" got invalid value at "config\.a\[1\]\.b"; /)
  // Two root fields, the second one bad: the first is not executed either.
  const second = await gql(server.url, ROOT_TOKEN, 'mutation { a: createProject(projectSlug: "first-fine") { ok } b: createProject(projectSlug: "second", name: "x\\u0000") { ok } }')
  assertRefused(second, /^Argument "name" of field "createProject"/)
  assert.deepEqual(await projectSlugs(), before)

  // Well-formed Unicode, astral characters included, is stored and read back as sent.
  const name = 'Zürich 😀 \ud83d\ude00 日本'
  const created = await gql(server.url, ROOT_TOKEN, CREATE_PROJECT, { slug: 'unicode', name, config: { emoji: '🎉', tab: 'a\tb' } })
  assert.equal(created.body.data.createProject.ok, true, created.text)
  const read = await gql(server.url, ROOT_TOKEN, '{ projectBySlug(slug: "unicode") { name config } }')
  assert.deepEqual(read.body.data.projectBySlug, { name, config: { emoji: '🎉', tab: 'a\tb' } })
})

test('configure and addMailTemplate: NUL in nested input values is refused and changes nothing', async () => {
  const configure = await gql(server.url, ROOT_TOKEN, 'mutation($c: ConfigInput!) { configure(config: $c) { ok } }', { c: { passwordless: { url: `https://app.example.com/${NUL}` } } })
  assertRefused(configure, /^Variable "\$c" got invalid value at "c\.passwordless\.url"; /)
  const template = { type: 'RESET_PASSWORD_REQUEST', subject: 'Reset', content: `<p>${NUL}</p>` }
  const add = await gql(server.url, ROOT_TOKEN, 'mutation($t: MailTemplate!) { addMailTemplate(template: $t) { ok } }', { t: template })
  assertRefused(add, /^Variable "\$t" got invalid value at "t\.content"; /)
  const addLone = await gql(server.url, ROOT_TOKEN, 'mutation($t: MailTemplate!) { addMailTemplate(template: $t) { ok } }', { t: { ...template, content: LONE } })
  assertRefused(addLone, /^Variable "\$t" got invalid value at "t\.content"; .*unpaired/)
  const templates = await gql(server.url, ROOT_TOKEN, '{ mailTemplates { content } }')
  assert.deepEqual(templates.body.data.mailTemplates, [])
  const config = await gql(server.url, ROOT_TOKEN, '{ configuration { passwordless { url } } }')
  assert.equal(config.status, 200, config.text)
  assert.doesNotMatch(config.text, /\\u0000/)
})

test('GET /tenant: a NUL in the variables query parameter is the same 400', async () => {
  const query = encodeURIComponent('query($slug: String!) { projectBySlug(slug: $slug) { slug } }')
  const variables = encodeURIComponent(JSON.stringify({ slug: NUL }))
  const response = await fetch(`${server.url}/tenant?query=${query}&variables=${variables}`, { headers: { authorization: `Bearer ${ROOT_TOKEN}` } })
  const body = await response.json()
  assert.equal(response.status, 400)
  assert.match(body.errors[0].message, /^Variable "\$slug" got invalid value at "slug"; .*NUL/)
})

/** One HTTP/1.1 request written byte for byte (fetch and node:http refuse such header values). */
function rawExchange(head: Buffer, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Written, not ended: a half-closed request is dropped by Node before it is answered.
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1', () => socket.write(Buffer.concat([head, Buffer.from(body)])))
    let answer = ''
    socket.on('data', (chunk) => { answer += chunk.toString('latin1') })
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
  })
}

function signInRequest(userAgent: Buffer): [Buffer, string] {
  const body = JSON.stringify({ query: SIGN_IN.replace('ok error { code }', 'ok result { token }'), variables: { email: ROOT_EMAIL, password: ROOT_PASSWORD } })
  const head = Buffer.concat([
    Buffer.from(`POST /tenant HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer ${LOGIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nUser-Agent: `),
    userAgent, Buffer.from('\r\n\r\n'),
  ])
  return [head, body]
}

test('User-Agent with bytes that are not UTF-8 is stored with the session as received (Latin-1), never a 500', async () => {
  const agent = Buffer.from([0x4d, 0x6f, 0x7a, 0xff, 0xfe, 0x80, 0x09, 0xe9, 0xed, 0xa0, 0x80, 0x2f, 0x31])
  const answer = await rawExchange(...signInRequest(agent))
  assert.match(answer, /^HTTP\/1\.1 200 /, answer)
  const token = /"token":"(\w+)"/.exec(answer)?.[1]
  assert.ok(token, answer)
  const sessions = await gql(server.url, token, '{ me { sessions { createdUserAgent isCurrent } } }')
  assert.equal(sessions.status, 200, sessions.text)
  const current = sessions.body.data.me.sessions.find((s: { isCurrent: boolean }) => s.isCurrent)
  assert.equal(current.createdUserAgent, agent.toString('latin1'))

  // A NUL or another control byte in a header never reaches us: Node's parser answers 400 itself.
  for (const bad of [Buffer.from('Moz\u0000illa'), Buffer.from('Moz\u0001illa')]) {
    const refused = await rawExchange(...signInRequest(bad))
    assert.match(refused, /^HTTP\/1\.1 400 /, refused)
  }
  assert.equal((await gql(server.url, ROOT_TOKEN, '{ me { id } }')).status, 200)
})
