/**
 * The hot reads that concurrent requests share (authentication, me.person, me.projects): each
 * request still gets its own identity, person and projects when they go to the database together.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { authenticate } from '../../src/domain/tokens/authenticate.js'
import { projectsWithOwnMemberships } from '../../src/domain/memberships/queries.js'

let server: TestServer
after(async () => { await server.close() })

const ME = '{ me { id person { email otpEnabled } projects { project { slug } memberships { role } } } }'

interface Caller { token: string, identityId: string, email: string, slugs: string[] }
const callers: Caller[] = []

before(async () => {
  server = await startTestServer()
  const rows = <T>(query: ReturnType<typeof sql>) => server.runtime.database.rows<T>(query)
  for (let i = 0; i < 40; i++) {
    const [{ id: identityId }] = await rows<{ id: string }>(sql`insert into identity (roles) values ('["person"]'::jsonb) returning id`)
    const email = `burst${i}@example.com`
    await rows(sql`insert into person (identity_id, email) values (${identityId}::uuid, ${email})`)
    const token = createHash('sha256').update(`burst-${i}`).digest('hex').slice(0, 40)
    await rows(sql`insert into api_key (token_hash, type, identity_id, expires_at)
      values (${createHash('sha256').update(token).digest('hex')}, 'session', ${identityId}::uuid, now() + interval '1 hour')`)
    // Caller i is a member of i % 3 projects, so empty, one and several all occur in one batch.
    const slugs = Array.from({ length: i % 3 }, (_, k) => `burst-${i}-${k}`)
    for (const slug of slugs) {
      const [{ id: projectId }] = await rows<{ id: string }>(sql`insert into project (slug, name) values (${slug}, ${slug}) returning id`)
      await rows(sql`insert into project_membership (project_id, identity_id, role) values (${projectId}::uuid, ${identityId}::uuid, 'editor')`)
    }
    callers.push({ token, identityId, email, slugs })
  }
})

test('calls issued together (so most of them wait and share a round trip) each get their own key, person and projects', async () => {
  const { ctx } = server.runtime
  const [auths, projects] = await Promise.all([
    Promise.all([...callers.map((c) => `Bearer ${c.token}`), 'Bearer unknown'.padEnd(47, '0'), `Bearer ${callers[0].token}`].map((header) => authenticate(ctx, header))),
    Promise.all(callers.map((c) => projectsWithOwnMemberships(ctx.db, c.identityId))),
  ])
  callers.forEach((caller, i) => {
    const auth = auths[i]
    assert.ok(auth.ok)
    assert.equal(auth.auth.identityId, caller.identityId)
    assert.equal(auth.auth.person?.email, caller.email)
    assert.deepEqual(projects[i].map((p) => p.project.slug), caller.slugs)
  })
  assert.deepEqual(auths[callers.length], { ok: false, message: 'Authorization failure: API key was not found' })
  const twice = auths[callers.length + 1]
  assert.ok(twice.ok && twice.auth.identityId === callers[0].identityId, 'a key twice in one batch')
})

test('40 sessions at once: every answer is its caller\'s own identity, person and projects; unknown tokens stay 401', async () => {
  const answers = await Promise.all([
    ...callers.map((caller) => gql(server.url, caller.token, ME)),
    ...Array.from({ length: 5 }, (_, i) => gql(server.url, `unknown${i}`.padEnd(40, '0'), ME)),
  ])
  callers.forEach((caller, i) => {
    const { me } = answers[i].body.data
    assert.equal(me.id, caller.identityId)
    assert.deepEqual(me.person, { email: caller.email, otpEnabled: false })
    assert.deepEqual(me.projects.map((p: { project: { slug: string } }) => p.project.slug), caller.slugs)
    assert.ok(me.projects.every((p: { memberships: { role: string }[] }) => p.memberships.length === 1 && p.memberships[0].role === 'editor'))
  })
  for (const answer of answers.slice(callers.length)) assert.equal(answer.status, 401)
})
