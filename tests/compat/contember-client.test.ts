/**
 * The published Contember clients against a running server. Every operation of
 * @contember/react-client-tenant 2.0.8 (contember-client.md §4) is built with the typed builders
 * of @contember/graphql-client-tenant, checked byte-identical to the reference text, and sent by
 * @contember/graphql-client's GraphQlClient with the token the hooks use. GraphQlClient throws on
 * anything a 2.0.8 client would reject (401/4xx/5xx, an `errors` key, no `data`), so each case
 * also proves the wire shape. The cases run in order and share one story: a project, a person
 * (alice) who joins it, changes her profile and password, enrols OTP, resets her password, signs
 * in without a password and through an OpenID provider, and finally signs out.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as graphqlClient from '@contember/graphql-client'
import { authenticator } from 'otplib'
import { gql } from '../helpers/http.js'
import { LOGIN_TOKEN, ROOT_EMAIL, ROOT_PASSWORD, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { Browser, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URL, startOidcProvider, type OidcProviderHandle } from '../helpers/oidc-provider.js'
import { createPerson, PASSWORD } from '../helpers/accounts.js'
import { OPERATIONS, type OperationName } from './operations.js'

// The package's .d.ts re-exports extensionless paths that NodeNext cannot follow: type what is used.
interface GraphQlClientInstance {
  execute<T = any>(query: string, options?: { apiToken?: string, variables?: Record<string, unknown>, headers?: Record<string, string> }): Promise<T>
}
const { GraphQlClient, GraphQlClientError } = graphqlClient as unknown as {
  GraphQlClient: new (options: { url: string }) => GraphQlClientInstance
  GraphQlClientError: abstract new (...args: never[]) => Error & { type: string }
}
const isUnauthorized = (error: unknown) => error instanceof GraphQlClientError && error.type === 'unauthorized'

const SLUG = 'compat'
const PROJECT_CONFIG = {
  acl: { roles: { editor: { variables: { language: { type: 'entity', entityName: 'Language' } } } } },
}
const editor = (...values: string[]) => [{ role: 'editor', variables: [{ name: 'language', values }] }]
const TOKEN = /^[0-9a-f]{40}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

let server: TestServer
let sink: SmtpSink
let provider: OidcProviderHandle
let client: GraphQlClientInstance
/** Alice's state as the story goes on. */
const alice = { email: 'alice.compat@example.com', password: PASSWORD, personId: '', identityId: '', session: '' }

/** Sends an operation exactly as the hooks do; returns `data` (GraphQlClient throws otherwise). */
async function send(name: OperationName, apiToken: string, variables: Record<string, unknown> = {}, headers?: Record<string, string>): Promise<any> {
  return client.execute(OPERATIONS[name], { apiToken, variables, headers })
}

/** The same, for mutations: the hooks read `data.mutation`. */
async function mutate(name: OperationName, apiToken: string, variables: Record<string, unknown> = {}, headers?: Record<string, string>): Promise<any> {
  return (await send(name, apiToken, variables, headers)).mutation
}

const SIGN_IN_HEADERS = { 'X-Contember-Token-Path': 'data.mutation.result.token' }

async function signIn(email: string, password: string): Promise<string> {
  const result = await mutate('signInMutation', LOGIN_TOKEN, { email, password, expiration: 20160 }, SIGN_IN_HEADERS)
  assert.equal(result.ok, true, JSON.stringify(result))
  return result.result.token
}

/** An attribute of a mail's html as a browser reads it: entities decoded. */
const decodeEntities = (html: string) => html
  .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  .replace(/&#(\d+);/g, (_, dec: string) => String.fromCharCode(Number(dec)))
  .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')

async function mailTo(address: string, count: number) {
  const mails = await sink.waitForMailTo(address, count)
  return mails[count - 1]
}

async function setup(query: string, variables: Record<string, unknown> = {}) {
  const response = await gql(server.url, ROOT_TOKEN, query, variables)
  assert.equal(response.status, 200, response.text)
  assert.equal(response.body.errors, undefined, response.text)
  return response.body.data
}

before(async () => {
  ;[sink, provider] = await Promise.all([startSmtpSink(), startOidcProvider()])
  server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl, MAIL_FROM: 'gateway@example.com' } })
  client = new GraphQlClient({ url: `${server.url}/tenant` })
  // Setup over plain HTTP: what the story needs and §4 has no operation for.
  assert.equal((await setup('mutation($config: Json) { createProject(projectSlug: "compat", name: "Compat", config: $config) { ok } }',
    { config: PROJECT_CONFIG })).createProject.ok, true)
  assert.equal((await setup('mutation($config: ConfigInput!) { configure(config: $config) { ok } }',
    { config: { passwordless: { enabled: 'optIn', url: 'https://app.example.com/sign-in' } } })).configure.ok, true)
  assert.equal((await setup('mutation($configuration: Json!) { addIDP(identityProvider: "corp", type: "oidc", configuration: $configuration) { ok } }',
    { configuration: { url: provider.issuer, clientId: OIDC_CLIENT_ID, clientSecret: OIDC_CLIENT_SECRET, scope: 'openid email profile' } })).addIDP.ok, true)
  const created = await createPerson(server.url, { email: alice.email, password: alice.password })
  alice.personId = created.personId
  alice.identityId = created.identityId
})
after(async () => {
  await server?.close()
  await Promise.all([sink?.close(), provider?.close()])
})

test('the operations built with @contember/graphql-client-tenant are byte-identical to the reference', () => {
  const reference = readFileSync(new URL('../fixtures/contember-client-2.0.8-operations.md', import.meta.url), 'utf8')
  const expected = Object.fromEntries([...reference.matchAll(/^#### (\w+)\n```graphql\n([\s\S]*?)\n```/gm)].map((m) => [m[1], `${m[2]}\n`]))
  assert.deepEqual(Object.keys(OPERATIONS).sort(), Object.keys(expected).sort())
  for (const [name, text] of Object.entries(OPERATIONS)) assert.equal(text, expected[name], name)
})

test('signInMutation: the login form signs root in (login token, 14-day expiration, token-path header)', async () => {
  const result = await mutate('signInMutation', LOGIN_TOKEN, { email: ROOT_EMAIL, password: ROOT_PASSWORD, expiration: 20160 }, SIGN_IN_HEADERS)
  assert.equal(result.ok, true)
  assert.equal(result.error, null)
  assert.match(result.result.token, TOKEN)
  assert.deepEqual(result.result.person, { id: result.result.person.id, email: ROOT_EMAIL, name: null })
  const wrong = await mutate('signInMutation', LOGIN_TOKEN, { email: ROOT_EMAIL, password: 'not-the-password' }, SIGN_IN_HEADERS)
  assert.deepEqual([wrong.ok, wrong.result], [false, null])
  assert.ok(['INVALID_PASSWORD', 'INVALID_CREDENTIALS'].includes(wrong.error.code), wrong.error.code)
  alice.session = await signIn(alice.email, alice.password)
})

test('createSessionTokenMutation: root opens a session for alice by e-mail', async () => {
  const result = await mutate('createSessionTokenMutation', ROOT_TOKEN, { email: alice.email, expiration: 60 })
  assert.equal(result.ok, true, JSON.stringify(result))
  assert.match(result.result.token, TOKEN)
  assert.deepEqual(result.result.person, { id: alice.personId, email: alice.email, name: 'alice.compat' })
  const me = await send('meQuery', result.result.token)
  assert.equal(me.me.person.id, alice.personId)
})

test('changeMyProfile: alice renames herself', async () => {
  const result = await mutate('changeMyProfile', alice.session, { name: 'Alice' })
  assert.deepEqual(result, { ok: true, error: null })
  assert.equal((await send('meQuery', alice.session)).me.person.name, 'Alice')
})

test('changeProfile: root changes alice\'s name', async () => {
  const result = await mutate('changeProfile', ROOT_TOKEN, { personId: alice.personId, name: 'Alice Compat' })
  assert.deepEqual(result, { ok: true, error: null })
  assert.equal((await send('meQuery', alice.session)).me.person.name, 'Alice Compat')
})

test('changeMyPasswordMutation: a wrong current password is refused, the right one changes it', async () => {
  const wrong = await mutate('changeMyPasswordMutation', alice.session, { currentPassword: 'wrong-password', newPassword: 'Changed-Horse-10' })
  assert.equal(wrong.ok, false)
  assert.equal(wrong.error.code, 'INVALID_PASSWORD')
  const result = await mutate('changeMyPasswordMutation', alice.session, { currentPassword: alice.password, newPassword: 'Changed-Horse-10' })
  assert.deepEqual(result, { ok: true, error: null })
  alice.password = 'Changed-Horse-10'
  alice.session = await signIn(alice.email, alice.password)
})

test('createGlobalApiKeyMutation: a key with global roles that authenticates', async () => {
  const result = await mutate('createGlobalApiKeyMutation', ROOT_TOKEN, { description: 'compat global key', roles: ['project_admin'] })
  assert.equal(result.ok, true, JSON.stringify(result))
  const { apiKey } = result.result
  assert.match(apiKey.id, UUID)
  assert.match(apiKey.token, TOKEN)
  assert.equal(apiKey.identity.description, 'compat global key')
  assert.deepEqual(apiKey.identity.roles, ['project_admin'])
  assert.deepEqual((await send('meQuery', apiKey.token)).me.roles, ['project_admin'])
})

test('disableApiKeyMutation: the disabled key is refused with 401 (GraphQlClient: unauthorized)', async () => {
  const created = (await mutate('createGlobalApiKeyMutation', ROOT_TOKEN, { description: 'to disable' })).result.apiKey
  assert.deepEqual(await mutate('disableApiKeyMutation', ROOT_TOKEN, { id: created.id }), { ok: true, error: null })
  await assert.rejects(send('meQuery', created.token), isUnauthorized)
})

test('createApiKeyMutation: a project key with an editor membership', async () => {
  const result = await mutate('createApiKeyMutation', ROOT_TOKEN, { projectSlug: SLUG, memberships: editor('cs'), description: 'compat project key' })
  assert.equal(result.ok, true, JSON.stringify(result))
  assert.match(result.result.apiKey.token, TOKEN)
  assert.equal(result.result.apiKey.identity.description, 'compat project key')
  const me = await send('meQuery', result.result.apiKey.token)
  assert.deepEqual(me.me.projects.map((p: any) => [p.project.slug, p.memberships]), [[SLUG, [{ role: 'editor', variables: [{ name: 'language', values: ['cs'] }] }]]])
  const invalid = await mutate('createApiKeyMutation', ROOT_TOKEN, { projectSlug: SLUG, memberships: [{ role: 'nope', variables: [] }], description: 'bad' })
  assert.equal(invalid.ok, false)
  assert.equal(invalid.error.code, 'INVALID_MEMBERSHIP')
  assert.deepEqual(invalid.error.membershipValidation, [{ code: 'ROLE_NOT_FOUND', role: 'nope', variable: null }])
})

test('addProjectMemberMutation: alice becomes an editor of the project', async () => {
  const result = await mutate('addProjectMemberMutation', ROOT_TOKEN, { projectSlug: SLUG, identityId: alice.identityId, memberships: editor('cs') })
  assert.deepEqual(result, { ok: true, error: null })
  const again = await mutate('addProjectMemberMutation', ROOT_TOKEN, { projectSlug: SLUG, identityId: alice.identityId, memberships: editor('cs') })
  assert.equal(again.error.code, 'ALREADY_MEMBER')
})

test('projectMembershipsQuery: alice\'s memberships', async () => {
  const result = await send('projectMembershipsQuery', ROOT_TOKEN, { projectSlug: SLUG, identityId: alice.identityId })
  assert.deepEqual(result.projectMemberships, editor('cs'))
})

test('updateProjectMemberMutation: alice\'s memberships are replaced', async () => {
  const result = await mutate('updateProjectMemberMutation', ROOT_TOKEN, { projectSlug: SLUG, identityId: alice.identityId, memberships: editor('en', 'de') })
  assert.deepEqual(result, { ok: true, error: null })
  assert.deepEqual((await send('projectMembershipsQuery', ROOT_TOKEN, { projectSlug: SLUG, identityId: alice.identityId })).projectMemberships, editor('en', 'de'))
})

test('projectMembersQuery: the members list with identities, persons and memberships', async () => {
  const result = await send('projectMembersQuery', ROOT_TOKEN, { projectSlug: SLUG, membersInput: { filter: { email: [alice.email] } } })
  assert.deepEqual(result.projectBySlug.members, [{
    identity: {
      id: alice.identityId, description: null, roles: ['person'],
      person: { id: alice.personId, email: alice.email, name: 'Alice Compat', otpEnabled: false },
      apiKey: null,
    },
    memberships: editor('en', 'de'),
  }])
})

test('projectRolesDefinitionQuery: roles and their variable definitions with __typename', async () => {
  const result = await send('projectRolesDefinitionQuery', ROOT_TOKEN, { slug: SLUG })
  const editorRole = result.projectBySlug.roles.find((role: any) => role.name === 'editor')
  assert.deepEqual(editorRole, { name: 'editor', variables: [{ name: 'language', __typename: 'RoleEntityVariableDefinition', entityName: 'Language' }] })
})

test('meQuery: identity, person, projects with memberships, permissions (as useFetchIdentity reads them)', async () => {
  const { me } = await send('meQuery', alice.session)
  assert.deepEqual(me, {
    id: alice.identityId, description: null, roles: ['person'],
    person: { id: alice.personId, email: alice.email, name: 'Alice Compat', otpEnabled: false },
    projects: [{ project: { id: me.projects[0]?.project.id, name: 'Compat', slug: SLUG, config: me.projects[0]?.project.config }, memberships: editor('en', 'de') }],
    permissions: { canCreateProject: false, canDeployEntrypoint: false },
  })
  assert.match(me.projects[0].project.id, UUID)
  const root = (await send('meQuery', ROOT_TOKEN)).me
  assert.deepEqual([root.roles, root.person.email, root.permissions.canCreateProject], [['super_admin', 'person'], ROOT_EMAIL, true])
})

test('removeProjectMemberMutation: alice leaves the project', async () => {
  assert.deepEqual(await mutate('removeProjectMemberMutation', ROOT_TOKEN, { projectSlug: SLUG, identityId: alice.identityId }), { ok: true, error: null })
  assert.deepEqual((await send('projectMembershipsQuery', ROOT_TOKEN, { projectSlug: SLUG, identityId: alice.identityId })).projectMemberships, [])
  const again = await mutate('removeProjectMemberMutation', ROOT_TOKEN, { projectSlug: SLUG, identityId: alice.identityId })
  assert.equal(again.error.code, 'NOT_MEMBER')
})

test('inviteMutation: a new person is invited into the project and gets the mail', async () => {
  const email = 'bob.compat@example.com'
  const result = await mutate('inviteMutation', ROOT_TOKEN, { email, name: 'Bob', projectSlug: SLUG, memberships: editor('cs') })
  assert.equal(result.ok, true, JSON.stringify(result))
  assert.equal(result.result.isNew, true)
  assert.deepEqual([result.result.person.email, result.result.person.name], [email, 'Bob'])
  assert.match(result.result.person.identity.id, UUID)
  const mail = await mailTo(email, 1)
  assert.deepEqual(mail.to, [email])
  const again = await mutate('inviteMutation', ROOT_TOKEN, { email, projectSlug: SLUG, memberships: editor('cs') })
  // Contember appends memberships for an existing person and never answers ALREADY_MEMBER here.
  assert.deepEqual([again.ok, again.result.isNew, again.result.person.id], [true, false, result.result.person.id])
})

let otpSecret = ''
test('prepareOtpMutation: alice gets an otpauth URI and secret', async () => {
  const result = await mutate('prepareOtpMutation', alice.session, { label: 'compat' })
  assert.equal(result.ok, true)
  assert.match(result.result.otpUri, /^otpauth:\/\/totp\//)
  otpSecret = result.result.otpSecret
  assert.equal(new URL(result.result.otpUri).searchParams.get('secret'), otpSecret)
})

test('confirmOtpMutation: a wrong code is refused, the current TOTP code enables OTP', async () => {
  const wrong = await mutate('confirmOtpMutation', alice.session, { otpToken: '000000' === authenticator.generate(otpSecret) ? '111111' : '000000' })
  assert.equal(wrong.error.code, 'INVALID_OTP_TOKEN')
  assert.deepEqual(await mutate('confirmOtpMutation', alice.session, { otpToken: authenticator.generate(otpSecret) }), { ok: true, error: null })
  assert.equal((await send('meQuery', alice.session)).me.person.otpEnabled, true)
  const withoutOtp = await mutate('signInMutation', LOGIN_TOKEN, { email: alice.email, password: alice.password }, SIGN_IN_HEADERS)
  assert.equal(withoutOtp.error.code, 'OTP_REQUIRED')
})

test('disableOtpMutation: OTP is off again', async () => {
  assert.deepEqual(await mutate('disableOtpMutation', alice.session), { ok: true, error: null })
  assert.equal((await send('meQuery', alice.session)).me.person.otpEnabled, false)
})

let resetToken = ''
test('createResetPasswordRequestMutation: the reset mail arrives with a token', async () => {
  assert.deepEqual(await mutate('createResetPasswordRequestMutation', LOGIN_TOKEN, { email: alice.email }), { ok: true, error: null })
  const mail = await mailTo(alice.email, 1)
  resetToken = /<code>([0-9a-f]{40})<\/code>/.exec(mail.html)?.[1] ?? ''
  assert.match(resetToken, TOKEN)
})

test('resetPasswordMutation: the token sets a new password once', async () => {
  assert.deepEqual(await mutate('resetPasswordMutation', LOGIN_TOKEN, { token: resetToken, password: 'Reset-Horse-11' }), { ok: true, error: null })
  alice.password = 'Reset-Horse-11'
  alice.session = await signIn(alice.email, alice.password)
  const reused = await mutate('resetPasswordMutation', LOGIN_TOKEN, { token: resetToken, password: 'Another-Horse-12' })
  assert.equal(reused.ok, false)
})

test('enableMyPasswordlessMutation: alice opts in to passwordless sign-in', async () => {
  assert.deepEqual(await mutate('enableMyPasswordlessMutation', alice.session), { ok: true, error: null })
})

/** initSignInPasswordless for alice; returns the request id and the token of the mailed link. */
async function passwordlessRequest(mailCount: number) {
  const result = await mutate('initSignInPasswordlessMutation', LOGIN_TOKEN, { email: alice.email })
  assert.equal(result.ok, true, JSON.stringify(result))
  const mail = await mailTo(alice.email, mailCount)
  const href = decodeEntities(/href="([^"]+)"/.exec(mail.html)?.[1] ?? '')
  return { result, token: new URL(href).searchParams.get('token') ?? '' }
}

test('initSignInPasswordlessMutation: a request id, an expiry and a mailed link', async () => {
  const { result, token } = await passwordlessRequest(2)
  assert.match(result.result.requestId, UUID)
  assert.ok(new Date(result.result.expiresAt).getTime() > Date.now())
  assert.match(token, TOKEN)
})

test('signInPasswordlessMutation: the mailed token signs alice in', async () => {
  const { result, token } = await passwordlessRequest(3)
  const signedIn = await mutate('signInPasswordlessMutation', LOGIN_TOKEN, { requestId: result.result.requestId, validationType: 'token', token, expiration: 20160 })
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
  assert.match(signedIn.result.token, TOKEN)
  assert.deepEqual(signedIn.result.person, { id: alice.personId, email: alice.email, name: 'Alice Compat' })
})

test('activatePasswordlessOtpMutation: the hook\'s OTP (sha256 sent) then signs in with validationType otp', async () => {
  const { result, token } = await passwordlessRequest(4)
  const otp = 'C0FFEE'
  assert.deepEqual(await mutate('activatePasswordlessOtpMutation', LOGIN_TOKEN, { requestId: result.result.requestId, token, otpHash: sha256(otp) }), { ok: true, error: null })
  const signedIn = await mutate('signInPasswordlessMutation', LOGIN_TOKEN, { requestId: result.result.requestId, validationType: 'otp', token: otp })
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
  assert.equal(signedIn.result.person.id, alice.personId)
})

test('disableMyPasswordlessMutation: alice opts out; a new request is refused', async () => {
  assert.deepEqual(await mutate('disableMyPasswordlessMutation', alice.session), { ok: true, error: null })
  const refused = await mutate('initSignInPasswordlessMutation', LOGIN_TOKEN, { email: alice.email })
  assert.equal(refused.ok, false)
})

let idpSession: { authUrl: string, sessionData: unknown } | undefined
test('initSignInIDPMutation: an authorization URL at the provider and the session data to keep', async () => {
  const result = await mutate('initSignInIDPMutation', LOGIN_TOKEN, { identityProvider: 'corp', data: { redirectUrl: OIDC_REDIRECT_URL } })
  assert.equal(result.ok, true, JSON.stringify(result))
  const url = new URL(result.result.authUrl)
  assert.equal(`${url.origin}${url.pathname}`, `${provider.issuer}/auth`)
  assert.equal(url.searchParams.get('redirect_uri'), OIDC_REDIRECT_URL)
  assert.ok(result.result.sessionData)
  idpSession = result.result
})

test('signInIDPMutation: the provider\'s callback signs in the person with that e-mail', async () => {
  assert.ok(idpSession, 'needs initSignInIDP')
  const { personId } = await createPerson(server.url, { email: 'alice@example.com' })
  const callback = await new Browser().signInAt(idpSession.authUrl, 'sub-alice', 'alice-pw')
  const result = await mutate('signInIDPMutation', LOGIN_TOKEN,
    { identityProvider: 'corp', data: { url: callback, redirectUrl: OIDC_REDIRECT_URL, sessionData: idpSession.sessionData }, expiration: 20160 }, SIGN_IN_HEADERS)
  assert.equal(result.ok, true, JSON.stringify(result))
  assert.match(result.result.token, TOKEN)
  assert.equal(result.result.person.id, personId)
  assert.equal(result.result.idpResponse.sub, 'sub-alice')
})

test('signOutMutation: the session ends and is then refused with 401', async () => {
  assert.deepEqual(await mutate('signOutMutation', alice.session, { all: true }), { ok: true, error: null })
  await assert.rejects(send('meQuery', alice.session), isUnauthorized)
})
