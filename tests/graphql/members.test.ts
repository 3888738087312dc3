/**
 * Project members and project API keys over HTTP: transcript E.32-E.40, the project ACL's tenant
 * rules with variable matching (reference §3 example), visibility filtering, membership
 * validation (INVALID_MEMBERSHIP + membershipValidation + legacy errors), add/update/remove.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { eq } from 'drizzle-orm'
import { startTestServer, ROOT_TOKEN, type TestServer } from '../helpers/server.js'
import { gql } from '../helpers/http.js'
import { auditEvent } from '../../src/db/schema.js'

let server: TestServer
before(async () => {
  server = await startTestServer()
  const res = await gql(server.url, ROOT_TOKEN, 'mutation($config: Json) { createProject(projectSlug: "acl", name: "ACL", config: $config) { ok } }', { config: ACL_CONFIG })
  assert.equal(res.body.data.createProject.ok, true)
})
after(async () => { await server?.close() })

const LANGUAGE = { type: 'entity', entityName: 'Language' }
const ACL_CONFIG = {
  acl: {
    roles: {
      editor: { variables: { language: LANGUAGE } },
      editor_manager: {
        variables: { language: LANGUAGE },
        tenant: {
          invite: { editor: { variables: { language: 'language' } } },
          manage: { editor: { variables: { language: 'language' } } },
        },
      },
      viewer_of_all: { tenant: { view: { editor: { variables: true }, admin: true } } },
      self_ref: { variables: { me: { type: 'predefined', value: 'identityID' }, cond: { type: 'condition' } } },
    },
  },
}

const API_KEY = `mutation($slug: String!, $m: [MembershipInput!]!, $hash: String) { createApiKey(projectSlug: $slug, memberships: $m, description: "bench key", tokenHash: $hash) {
  ok error { code developerMessage membershipValidation { code role variable } } errors { code endUserMessage } result { apiKey { id token identity { id roles description projects { project { slug } memberships { role } } } } } } }`
const MEMBERS = `query($slug: String!, $input: ProjectMembersInput) { projectBySlug(slug: $slug) { members(input: $input) { identity { id description person { email } apiKey { id } } memberships { role variables { name values } } } } }`
const ADD = 'mutation($slug: String!, $id: String!, $m: [MembershipInput!]!) { addProjectMember(projectSlug: $slug, identityId: $id, memberships: $m) { ok error { code developerMessage membershipValidation { code role variable } } errors { code } } }'
const UPDATE = 'mutation($slug: String!, $id: String!, $m: [MembershipInput!]!) { updateProjectMember(projectSlug: $slug, identityId: $id, memberships: $m) { ok error { code developerMessage } } }'
const REMOVE = 'mutation($slug: String!, $id: String!) { removeProjectMember(projectSlug: $slug, identityId: $id) { ok error { code developerMessage } errors { code } } }'
const MEMBERSHIPS = 'query($slug: String!, $id: String!) { projectMemberships(projectSlug: $slug, identityId: $id) { role variables { name values } } }'

const editor = (...values: string[]) => [{ role: 'editor', variables: [{ name: 'language', values }] }]

async function apiKey(memberships: unknown, slug = 'acl'): Promise<{ token: string, identityId: string }> {
  const res = await gql(server.url, ROOT_TOKEN, API_KEY, { slug, m: memberships })
  assert.equal(res.body.data.createApiKey.ok, true, JSON.stringify(res.body))
  const key = res.body.data.createApiKey.result.apiKey
  return { token: key.token, identityId: key.identity.id }
}

async function bareIdentity(): Promise<string> {
  const res = await gql(server.url, ROOT_TOKEN, 'mutation { createGlobalApiKey(description: "bare") { result { apiKey { identity { id } } } } }')
  return res.body.data.createGlobalApiKey.result.apiKey.identity.id
}

test('transcript E.32-E.34: createApiKey success, unknown role, unknown project', async () => {
  const ok = await gql(server.url, ROOT_TOKEN, API_KEY, { slug: 'acl', m: [{ role: 'admin', variables: [] }] })
  const key = ok.body.data.createApiKey
  assert.equal(key.ok, true)
  assert.match(key.result.apiKey.token, /^[0-9a-f]{40}$/)
  assert.deepEqual({ ...key.result.apiKey.identity, id: undefined }, {
    id: undefined, roles: [], description: 'bench key', projects: [{ project: { slug: 'acl' }, memberships: [{ role: 'admin' }] }],
  })
  // E.36: the key's own view.
  const me = await gql(server.url, key.result.apiKey.token, '{ me { roles person { id } projects { project { slug } memberships { role variables { name values } } } } }')
  assert.deepEqual(me.body.data.me, { roles: [], person: null, projects: [{ project: { slug: 'acl' }, memberships: [{ role: 'admin', variables: [] }] }] })

  const unknownRole = await gql(server.url, ROOT_TOKEN, API_KEY, { slug: 'acl', m: [{ role: 'nope', variables: [] }] })
  assert.deepEqual(unknownRole.body.data.createApiKey, {
    ok: false,
    error: {
      code: 'INVALID_MEMBERSHIP',
      developerMessage: 'Provided membership is invalid: Role nope is not defined in a schema. You can also check membershipValidation field for structured details.',
      membershipValidation: [{ code: 'ROLE_NOT_FOUND', role: 'nope', variable: null }],
    },
    errors: [{ code: 'INVALID_MEMBERSHIP', endUserMessage: null }, { code: 'ROLE_NOT_FOUND', endUserMessage: 'Given role not found' }],
    result: null,
  })
  const unknownProject = await gql(server.url, ROOT_TOKEN, API_KEY, { slug: 'does_not_exist', m: [{ role: 'admin', variables: [] }] })
  assert.deepEqual(unknownProject.body.data.createApiKey.error, {
    code: 'PROJECT_NOT_FOUND', developerMessage: 'Project does_not_exist was not found or you are not allowed to access it.', membershipValidation: null,
  })
  const badHash = await gql(server.url, ROOT_TOKEN, API_KEY, { slug: 'acl', m: [], hash: 'xyz' })
  assert.equal(badHash.body.errors[0].message, 'Invalid format of tokenHash. Must be hex-encoded sha256.')
  const audit = await server.runtime.ctx.db.select().from(auditEvent).where(eq(auditEvent.type, 'api_key_create'))
  assert.ok(audit.some((e) => (e.eventData as { description: string }).description === 'bench key'))
})

test('membership validation: every issue, with legacy entries; VARIABLE_INVALID has none', async () => {
  const identityId = await bareIdentity()
  const res = await gql(server.url, ROOT_TOKEN, ADD, {
    slug: 'acl', id: identityId,
    m: [
      { role: 'nope', variables: [] },
      { role: 'editor', variables: [{ name: 'region', values: ['x'] }] },
      { role: 'self_ref', variables: [{ name: 'cond', values: ['not json'] }] },
    ],
  })
  const payload = res.body.data.addProjectMember
  assert.equal(payload.ok, false)
  assert.equal(payload.error.code, 'INVALID_MEMBERSHIP')
  assert.equal(payload.error.developerMessage, 'Provided membership is invalid: Role nope is not defined in a schema. Variable region of role editor is not defined in a schema. Variable language of role editor is empty. Variable cond of role self_ref contains invalid value. You can also check membershipValidation field for structured details.')
  assert.deepEqual(payload.error.membershipValidation, [
    { code: 'ROLE_NOT_FOUND', role: 'nope', variable: null },
    { code: 'VARIABLE_NOT_FOUND', role: 'editor', variable: 'region' },
    { code: 'VARIABLE_EMPTY', role: 'editor', variable: 'language' },
    { code: 'VARIABLE_INVALID', role: 'self_ref', variable: 'cond' },
  ])
  assert.deepEqual(payload.errors.map((e: { code: string }) => e.code), ['INVALID_MEMBERSHIP', 'ROLE_NOT_FOUND', 'VARIABLE_NOT_FOUND', 'VARIABLE_EMPTY'])
  const predefined = await gql(server.url, ROOT_TOKEN, ADD, { slug: 'acl', id: identityId, m: [{ role: 'self_ref', variables: [{ name: 'me', values: ['a'] }, { name: 'cond', values: ['{"a":1}'] }] }] })
  assert.deepEqual(predefined.body.data.addProjectMember.error.membershipValidation, [{ code: 'VARIABLE_NOT_FOUND', role: 'self_ref', variable: 'me' }])
})

test('transcript E.38-E.40: addProjectMember, ALREADY_MEMBER, members list; IDENTITY_NOT_FOUND instead of an internal error', async () => {
  const identityId = await bareIdentity()
  const added = await gql(server.url, ROOT_TOKEN, ADD, { slug: 'acl', id: identityId, m: [{ role: 'admin', variables: [] }] })
  assert.deepEqual(added.body.data.addProjectMember, { ok: true, error: null, errors: [] })
  const again = await gql(server.url, ROOT_TOKEN, ADD, { slug: 'acl', id: identityId, m: [{ role: 'content_admin', variables: [] }] })
  assert.deepEqual(again.body.data.addProjectMember.error, {
    code: 'ALREADY_MEMBER', developerMessage: 'This identity is already a project member. Use updateProjectMember mutation to change memberships.', membershipValidation: null,
  })
  for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
    const missing = await gql(server.url, ROOT_TOKEN, ADD, { slug: 'acl', id, m: [{ role: 'admin', variables: [] }] })
    assert.equal(missing.body.data.addProjectMember.error.code, 'IDENTITY_NOT_FOUND')
  }
  const noProject = await gql(server.url, ROOT_TOKEN, ADD, { slug: 'none', id: identityId, m: [] })
  assert.equal(noProject.body.data.addProjectMember.error.code, 'PROJECT_NOT_FOUND')

  const members = await gql(server.url, ROOT_TOKEN, MEMBERS, { slug: 'acl' })
  const mine = members.body.data.projectBySlug.members.find((m: { identity: { id: string } }) => m.identity.id === identityId)
  assert.deepEqual(mine, { identity: { id: identityId, description: 'bare', person: null, apiKey: null }, memberships: [{ role: 'admin', variables: [] }] })
  const memberships = await gql(server.url, ROOT_TOKEN, MEMBERSHIPS, { slug: 'acl', id: identityId })
  assert.deepEqual(memberships.body.data.projectMemberships, [{ role: 'admin', variables: [] }])
  const audit = await server.runtime.ctx.db.select().from(auditEvent).where(eq(auditEvent.type, 'project_membership_create'))
  assert.ok(audit.some((e) => (e.eventData as { identityId: string }).identityId === identityId))
})

test('reference §3 example: an editor_manager with language [L1, L2] may add an editor for L1, not for L3', async () => {
  const manager = await apiKey([{ role: 'editor_manager', variables: [{ name: 'language', values: ['L1', 'L2'] }] }])
  const target = await bareIdentity()
  const denied = await gql(server.url, manager.token, ADD, { slug: 'acl', id: target, m: editor('L3') })
  assert.equal(denied.status, 200)
  assert.equal(denied.body.errors[0].message, 'You are not allowed to add a project member')
  assert.equal(denied.body.errors[0].extensions.code, 'ForbiddenError')
  const mixed = await gql(server.url, manager.token, ADD, { slug: 'acl', id: target, m: editor('L1', 'L3') })
  assert.equal(mixed.body.errors[0].extensions.code, 'ForbiddenError')
  const admin = await gql(server.url, manager.token, ADD, { slug: 'acl', id: target, m: [{ role: 'admin', variables: [] }] })
  assert.equal(admin.body.errors[0].extensions.code, 'ForbiddenError', 'no rule for admin')
  const allowed = await gql(server.url, manager.token, ADD, { slug: 'acl', id: target, m: editor('L1') })
  assert.deepEqual(allowed.body.data.addProjectMember, { ok: true, error: null, errors: [] })
  // Global-only operations stay forbidden for a project-scoped manager.
  const key = await gql(server.url, manager.token, API_KEY, { slug: 'acl', m: editor('L1') })
  assert.equal(key.body.errors[0].message, 'You are not allowed to create an API key for this project')
})

test('visibility: a manager sees only the memberships and values its rules match; projectMemberships likewise', async () => {
  const manager = await apiKey([{ role: 'editor_manager', variables: [{ name: 'language', values: ['M1', 'M2'] }] }])
  const both = await apiKey(editor('M1', 'M9'))
  const hidden = await apiKey(editor('M9'))
  const admin = await apiKey([{ role: 'admin', variables: [] }])
  const res = await gql(server.url, manager.token, MEMBERS, { slug: 'acl', input: { filter: { identityId: [both.identityId, hidden.identityId, admin.identityId] } } })
  assert.deepEqual(res.body.data.projectBySlug.members.map((m: { identity: { id: string }, memberships: unknown }) => [m.identity.id, m.memberships]), [
    [both.identityId, [{ role: 'editor', variables: [{ name: 'language', values: ['M1'] }] }]],
  ])
  const ms = await gql(server.url, manager.token, MEMBERSHIPS, { slug: 'acl', id: both.identityId })
  assert.deepEqual(ms.body.data.projectMemberships, [{ role: 'editor', variables: [{ name: 'language', values: ['M1'] }] }])
  const none = await gql(server.url, manager.token, MEMBERSHIPS, { slug: 'acl', id: admin.identityId })
  assert.deepEqual(none.body.data.projectMemberships, [])
  // Identity.projects of another identity is filtered the same way.
  const viaIdentity = await gql(server.url, manager.token, `query($slug: String!, $input: ProjectMembersInput) { projectBySlug(slug: $slug) { members(input: $input) { identity { projects { project { slug } memberships { role variables { name values } } } } } } }`,
    { slug: 'acl', input: { filter: { identityId: [both.identityId] } } })
  assert.deepEqual(viaIdentity.body.data.projectBySlug.members[0].identity.projects, [{ project: { slug: 'acl' }, memberships: [{ role: 'editor', variables: [{ name: 'language', values: ['M1'] }] }] }])

  // A plain editor has no view rule: no members, no memberships, but the project itself is visible to it.
  const plain = await gql(server.url, both.token, MEMBERS, { slug: 'acl' })
  assert.deepEqual(plain.body.data.projectBySlug.members, [])
  // A view-only role sees everything its view rule names.
  const viewer = await apiKey([{ role: 'viewer_of_all', variables: [] }])
  const viewed = await gql(server.url, viewer.token, MEMBERS, { slug: 'acl', input: { filter: { identityId: [hidden.identityId, admin.identityId] } } })
  assert.equal(viewed.body.data.projectBySlug.members.length, 2)
  const viewerAdd = await gql(server.url, viewer.token, ADD, { slug: 'acl', id: await bareIdentity(), m: editor('X') })
  assert.equal(viewerAdd.body.errors[0].extensions.code, 'ForbiddenError', 'view does not grant manage')
})

test('members filters, pagination and their UserInputErrors', async () => {
  const filtered = await gql(server.url, ROOT_TOKEN, MEMBERS, { slug: 'acl', input: { filter: { memberType: 'PERSON' } } })
  assert.deepEqual(filtered.body.data.projectBySlug.members, [], 'only API keys are members so far')
  const page = await gql(server.url, ROOT_TOKEN, MEMBERS, { slug: 'acl', input: { limit: 2, offset: 1 } })
  assert.equal(page.body.data.projectBySlug.members.length, 2)
  const errors = [
    [{ input: { filter: { memberType: 'API_KEY', email: ['a@b.c'] } } }, 'Cannot use email filter for ApiKey member type.'],
    [{ input: { filter: { memberType: 'API_KEY', personId: ['x'] } } }, 'Cannot use personId  filter for ApiKey member type.'],
  ] as const
  for (const [variables, message] of errors) {
    const res = await gql(server.url, ROOT_TOKEN, MEMBERS, { slug: 'acl', ...variables })
    assert.equal(res.body.errors[0].message, message)
    assert.equal(res.body.errors[0].extensions.code, 'UserInputError')
  }
  const both = await gql(server.url, ROOT_TOKEN, 'query { projectBySlug(slug: "acl") { members(memberType: API_KEY, input: {}) { identity { id } } } }')
  assert.equal(both.body.errors[0].message, 'Cannot use both deprecated memberType parameter and new input parameter')
})

test('updateProjectMember replaces visible values, keeps hidden ones, deletes emptied roles; NOT_MEMBER', async () => {
  const manager = await apiKey([{ role: 'editor_manager', variables: [{ name: 'language', values: ['U1', 'U2'] }] }])
  const target = await apiKey(editor('U1', 'U9'))
  const res = await gql(server.url, manager.token, UPDATE, { slug: 'acl', id: target.identityId, m: editor('U2') })
  assert.deepEqual(res.body.data.updateProjectMember, { ok: true, error: null })
  const after = await gql(server.url, ROOT_TOKEN, MEMBERSHIPS, { slug: 'acl', id: target.identityId })
  const [membership] = after.body.data.projectMemberships
  assert.deepEqual([membership.role, membership.variables[0].name, membership.variables[0].values.sort()], ['editor', 'language', ['U2', 'U9']])
  const denied = await gql(server.url, manager.token, UPDATE, { slug: 'acl', id: target.identityId, m: editor('U2', 'U3') })
  assert.equal(denied.body.errors[0].message, 'You are not allowed to update project member variables')

  // Root: variables [] empties the role, which is deleted; VARIABLE_EMPTY is not reported by update.
  const emptied = await gql(server.url, ROOT_TOKEN, UPDATE, { slug: 'acl', id: target.identityId, m: [{ role: 'editor', variables: [] }, { role: 'content_admin', variables: [] }] })
  assert.deepEqual(emptied.body.data.updateProjectMember, { ok: true, error: null })
  const finalState = await gql(server.url, ROOT_TOKEN, MEMBERSHIPS, { slug: 'acl', id: target.identityId })
  assert.deepEqual(finalState.body.data.projectMemberships, [{ role: 'content_admin', variables: [] }])
  const notMember = await gql(server.url, ROOT_TOKEN, UPDATE, { slug: 'acl', id: await bareIdentity(), m: [{ role: 'admin', variables: [] }] })
  assert.equal(notMember.body.data.updateProjectMember.error.code, 'NOT_MEMBER')
  const invalid = await gql(server.url, ROOT_TOKEN, UPDATE, { slug: 'acl', id: target.identityId, m: [{ role: 'ghost', variables: [] }] })
  assert.equal(invalid.body.data.updateProjectMember.error.code, 'INVALID_MEMBERSHIP')
  const audit = await server.runtime.ctx.db.select().from(auditEvent).where(eq(auditEvent.type, 'project_membership_update'))
  assert.equal(audit.length, 2)
})

test('removeProjectMember: the manager cannot remove what it does not match; root removes all; NOT_MEMBER', async () => {
  const manager = await apiKey([{ role: 'editor_manager', variables: [{ name: 'language', values: ['R1'] }] }])
  const target = await apiKey(editor('R1', 'R2'))
  const denied = await gql(server.url, manager.token, REMOVE, { slug: 'acl', id: target.identityId })
  assert.equal(denied.body.errors[0].message, 'You are not allowed to remove a project member')
  const removable = await apiKey(editor('R1'))
  const removed = await gql(server.url, manager.token, REMOVE, { slug: 'acl', id: removable.identityId })
  assert.deepEqual(removed.body.data.removeProjectMember, { ok: true, error: null, errors: [] })
  const root = await gql(server.url, ROOT_TOKEN, REMOVE, { slug: 'acl', id: target.identityId })
  assert.equal(root.body.data.removeProjectMember.ok, true)
  const again = await gql(server.url, ROOT_TOKEN, REMOVE, { slug: 'acl', id: target.identityId })
  assert.equal(again.body.data.removeProjectMember.error.code, 'NOT_MEMBER')
  const missing = await gql(server.url, ROOT_TOKEN, REMOVE, { slug: 'none', id: target.identityId })
  assert.equal(missing.body.data.removeProjectMember.error.code, 'PROJECT_NOT_FOUND')
  const stranger = await gql(server.url, (await apiKey([{ role: 'content_admin', variables: [] }])).token, REMOVE, { slug: 'acl', id: target.identityId })
  assert.equal(stranger.body.errors[0].extensions.code, 'ForbiddenError')
})

test('global project_admin is admin everywhere: me.projects shows admin in every project', async () => {
  const res = await gql(server.url, ROOT_TOKEN, 'mutation { createGlobalApiKey(description: "pa", roles: ["project_admin"]) { result { apiKey { token } } } }')
  const token = res.body.data.createGlobalApiKey.result.apiKey.token
  const me = await gql(server.url, token, '{ me { projects { project { slug } memberships { role } } } projects { slug } }')
  assert.deepEqual(me.body.data.me.projects, [{ project: { slug: 'acl' }, memberships: [{ role: 'admin' }] }])
  assert.deepEqual(me.body.data.projects, [{ slug: 'acl' }])
  const members = await gql(server.url, token, MEMBERS, { slug: 'acl' })
  assert.ok(members.body.data.projectBySlug.members.length > 3)
})
