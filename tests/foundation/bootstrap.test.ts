/**
 * Bootstrap as Contember does it, on the driver of this run: configured tokens become permanent
 * keys of a `login` and a `super_admin` identity (stored only as SHA-256), the root person is
 * created from e-mail + password; missing tokens are generated once; tokens configured later for
 * an existing database are added, never ignored.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { gql } from '../helpers/http.js'
import { LOGIN_TOKEN, ROOT_EMAIL, ROOT_PASSWORD, ROOT_TOKEN, startTestServer } from '../helpers/server.js'
import { durableDatabase, type DurableServer } from './support.js'

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')
const NO_TOKENS = { CONTEMBER_ROOT_TOKEN: undefined, CONTEMBER_LOGIN_TOKEN: undefined }

interface KeyRow { token_hash: string, type: string, roles: string[], identity_id: string }

async function keys(server: { runtime: DurableServer['runtime'] }): Promise<KeyRow[]> {
  return server.runtime.database.rows<KeyRow>(sql`
    select k.token_hash, k.type, i.roles, i.id as identity_id
    from api_key k join identity i on i.id = k.identity_id order by i.created_at, k.created_at`)
}

/** Every row of the tables bootstrap writes, as text: no clear token or password may be in it. */
async function storedText(server: { runtime: DurableServer['runtime'] }): Promise<string> {
  const rows = await server.runtime.database.rows<{ t: string }>(sql`
    select coalesce((select json_agg(x)::text from identity x), '') || coalesce((select json_agg(x)::text from api_key x), '')
      || coalesce((select json_agg(x)::text from person x), '') || coalesce((select json_agg(x)::text from audit_event x), '') as t`)
  return rows[0].t
}

async function me(url: string, token: string) {
  const response = await gql(url, token, '{ me { id roles person { email } } }')
  assert.equal(response.status, 200, `${token.slice(0, 6)}…: ${response.text}`)
  return response.body.data.me as { id: string, roles: string[], person: { email: string } | null }
}

test('fresh database with tokens given: SHA-256 only, login and super_admin identities, root person', async () => {
  const server = await startTestServer()
  try {
    assert.deepEqual(server.runtime.bootstrap, { generated: {}, added: ['login token', 'root token', 'root person'] })
    const rows = await keys(server)
    assert.deepEqual(rows.map((r) => [r.token_hash, r.type, r.roles]), [
      [sha256(LOGIN_TOKEN), 'permanent', ['login']],
      [sha256(ROOT_TOKEN), 'permanent', ['super_admin', 'person']],
    ])
    const [person] = await server.runtime.database.rows<{ email: string, password_hash: string, identity_id: string }>(
      sql`select email, password_hash, identity_id from person`)
    assert.equal(person.email, ROOT_EMAIL)
    assert.equal(person.identity_id, rows[1].identity_id)
    assert.match(person.password_hash, /^\$argon2id\$/)

    const stored = await storedText(server)
    for (const secret of [ROOT_TOKEN, LOGIN_TOKEN, ROOT_PASSWORD]) assert.ok(!stored.includes(secret), 'a secret is stored in clear')

    const root = await me(server.url, ROOT_TOKEN)
    assert.deepEqual(root.roles, ['super_admin', 'person'])
    assert.equal(root.person?.email, ROOT_EMAIL)
    assert.deepEqual((await me(server.url, LOGIN_TOKEN)).roles, ['login'])
  } finally {
    await server.close()
  }
})

test('fresh database without tokens: both generated once (hash stored), a restart generates none', async () => {
  const database = await durableDatabase()
  try {
    const first = await database.start(NO_TOKENS)
    const { rootToken, loginToken } = first.runtime.bootstrap.generated
    assert.match(rootToken ?? '', /^[0-9a-f]{40}$/)
    assert.match(loginToken ?? '', /^[0-9a-f]{40}$/)
    assert.deepEqual((await keys(first)).map((r) => [r.token_hash, r.roles]), [
      [sha256(loginToken!), ['login']],
      [sha256(rootToken!), ['super_admin', 'person']],
    ])
    const stored = await storedText(first)
    assert.ok(!stored.includes(rootToken!) && !stored.includes(loginToken!))
    const rootId = (await me(first.url, rootToken!)).id
    await first.close()

    const second = await database.start(NO_TOKENS)
    try {
      assert.deepEqual(second.runtime.bootstrap, { generated: {}, added: [] })
      assert.equal((await keys(second)).length, 2)
      assert.equal((await me(second.url, rootToken!)).id, rootId)
      assert.deepEqual((await me(second.url, loginToken!)).roles, ['login'])
    } finally {
      await second.close()
    }
  } finally {
    await database.drop()
  }
})

test('existing database: tokens and root password given later are added and work; the old ones keep working', async () => {
  const database = await durableDatabase()
  try {
    const first = await database.start({ ...NO_TOKENS, CONTEMBER_ROOT_PASSWORD: undefined })
    const generated = first.runtime.bootstrap.generated
    assert.deepEqual(first.runtime.bootstrap.added, ['login token', 'root token'])
    await first.close()

    const newRoot = 'abcdef0123456789abcdef0123456789abcdef01'
    const newLogin = 'fedcba9876543210fedcba9876543210fedcba98'
    const second = await database.start({ CONTEMBER_ROOT_TOKEN: newRoot, CONTEMBER_LOGIN_TOKEN: newLogin, CONTEMBER_ROOT_PASSWORD: ROOT_PASSWORD })
    try {
      assert.deepEqual(second.runtime.bootstrap, { generated: {}, added: ['login token', 'root token', 'root person'] })
      const root = await me(second.url, newRoot)
      assert.ok(root.roles.includes('super_admin'))
      assert.equal(root.person?.email, ROOT_EMAIL)
      assert.deepEqual((await me(second.url, newLogin)).roles, ['login'])
      assert.ok((await me(second.url, generated.rootToken!)).roles.includes('super_admin'))
      assert.deepEqual((await me(second.url, generated.loginToken!)).roles, ['login'])
      assert.ok(!(await storedText(second)).includes(newRoot))
    } finally {
      await second.close()
    }

    // The same configuration again changes nothing.
    const third = await database.start({ CONTEMBER_ROOT_TOKEN: newRoot, CONTEMBER_LOGIN_TOKEN: newLogin, CONTEMBER_ROOT_PASSWORD: ROOT_PASSWORD })
    try {
      assert.deepEqual(third.runtime.bootstrap, { generated: {}, added: [] })
      assert.equal((await keys(third)).length, 4)
      const audits = await third.runtime.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_event where type = 'bootstrap'`)
      assert.equal(audits[0].n, 2)
    } finally {
      await third.close()
    }
  } finally {
    await database.drop()
  }
})
