/**
 * invite and unmanagedInvite over HTTP, with the mails read from a real SMTP server on loopback;
 * and the mail template operations that shape those mails.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { eq } from 'drizzle-orm'
import { createHash } from 'node:crypto'
import { startTestServer, ROOT_TOKEN, LOGIN_TOKEN, type TestServer } from '../helpers/server.js'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js'
import { gql } from '../helpers/http.js'
import { auditEvent, person, personToken } from '../../src/db/schema.js'

let server: TestServer
let sink: SmtpSink
before(async () => {
  sink = await startSmtpSink()
  server = await startTestServer({ env: { SMTP_URL: sink.smtpUrl } })
  const res = await gql(server.url, ROOT_TOKEN, 'mutation($config: Json) { createProject(projectSlug: "inv", name: "Invite Co", config: $config) { ok } }', {
    config: {
      acl: { roles: { editor: { variables: { language: { type: 'entity', entityName: 'Language' } } }, inviter: { tenant: { invite: { editor: { variables: true } } } } } },
      settings: { tenant: { inviteExpirationMinutes: 90 } },
    },
  })
  assert.equal(res.body.data.createProject.ok, true)
})
after(async () => {
  await server?.close()
  await sink?.close()
})

const INVITE = `mutation($email: String!, $name: String, $slug: String!, $m: [MembershipInput!]!, $options: InviteOptions) {
  invite(email: $email, name: $name, projectSlug: $slug, memberships: $m, options: $options) {
    ok error { code developerMessage endUserMessage membershipValidation { code role variable } } errors { code }
    result { isNew person { id email name identity { id description roles projects { project { slug } memberships { role variables { name values } } } } } } } }`
const UNMANAGED = `mutation($email: String!, $name: String, $slug: String!, $m: [MembershipInput!]!, $options: UnmanagedInviteOptions, $password: String) {
  unmanagedInvite(email: $email, name: $name, projectSlug: $slug, memberships: $m, options: $options, password: $password) {
    ok error { code developerMessage } result { isNew person { id email name } } } }`
const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { ok error { code } } }'
const editor = (...values: string[]) => [{ role: 'editor', variables: [{ name: 'language', values }] }]

test('invite a new person (CREATE_PASSWORD): person with name, memberships, NEW_USER_INVITED mail with a usable password', async () => {
  const res = await gql(server.url, ROOT_TOKEN, INVITE, { email: 'New.Editor@Example.com', name: 'Nina', slug: 'inv', m: editor('cs') })
  const payload = res.body.data.invite
  assert.equal(payload.ok, true, JSON.stringify(res.body))
  assert.equal(payload.result.isNew, true)
  assert.equal(payload.result.person.email, 'new.editor@example.com')
  assert.equal(payload.result.person.name, 'Nina')
  assert.deepEqual(payload.result.person.identity.roles, ['person'])
  assert.deepEqual(payload.result.person.identity.projects, [{ project: { slug: 'inv' }, memberships: editor('cs') }])

  const [mail] = await sink.waitForMailTo('new.editor@example.com')
  assert.match(mail.toHeader, /New\.Editor@/, 'sent to the address as typed')
  assert.equal(mail.subject, 'You have been invited to Invite Co')
  // Mustache HTML-escapes the base64 password ('/', '=', '+' may appear): decode before measuring.
  const password = /Your password: <code>([^<]+)<\/code>/.exec(mail.html)?.[1]
    ?.replace(/&#x2F;/g, '/').replace(/&#x3D;/g, '=').replace(/&amp;/g, '&')
  assert.ok(password && password.length === 12, mail.html)
  const signIn = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: 'new.editor@example.com', password })
  assert.equal(signIn.body.data.signIn.ok, true, 'the mailed password signs in')
  const [audit] = await server.runtime.ctx.db.select().from(auditEvent).where(eq(auditEvent.type, 'person_invite'))
  assert.equal((audit.eventData as { isNew: boolean }).isNew, true)
  assert.doesNotMatch(JSON.stringify(audit), new RegExp(password.slice(0, 8).replace(/[+/]/g, '.')))
})

test('invite an existing person appends memberships and sends EXISTING_USER_INVITED; RESET_PASSWORD gives a token valid per project settings', async () => {
  const res = await gql(server.url, ROOT_TOKEN, INVITE, { email: 'new.editor@example.com', slug: 'inv', m: editor('en') })
  assert.equal(res.body.data.invite.result.isNew, false)
  const [membership] = res.body.data.invite.result.person.identity.projects[0].memberships
  assert.deepEqual(membership.variables[0].values.sort(), ['cs', 'en'])
  const existing = (await sink.waitForMailTo('new.editor@example.com', 2))[1]
  assert.equal(existing.subject, 'You have been invited to Invite Co')
  assert.doesNotMatch(existing.html, /password/i)

  const reset = await gql(server.url, ROOT_TOKEN, INVITE, { email: 'reset.me@example.com', slug: 'inv', m: editor('de'), options: { method: 'RESET_PASSWORD' } })
  assert.equal(reset.body.data.invite.result.person.name, 'reset.me', 'name defaults to the local part')
  const [resetMail] = await sink.waitForMailTo('reset.me@example.com')
  const token = /<code>([0-9a-f]{40})<\/code>/.exec(resetMail.html)?.[1]
  assert.ok(token, resetMail.html)
  const [row] = await server.runtime.ctx.db.select().from(personToken).where(eq(personToken.tokenHash, createHash('sha256').update(token).digest('hex')))
  assert.equal(row.type, 'password_reset')
  assert.equal(Math.round((row.expiresAt.getTime() - row.createdAt.getTime()) / 60_000), 90)
  const [stored] = await server.runtime.ctx.db.select().from(person).where(eq(person.email, 'reset.me@example.com'))
  assert.equal(stored.passwordHash, null)
})

test('invite errors: PROJECT_NOT_FOUND for admins, Forbidden for others, INVALID_MEMBERSHIP before INVALID_EMAIL_FORMAT', async () => {
  const missing = await gql(server.url, ROOT_TOKEN, INVITE, { email: 'a@example.com', slug: 'nope', m: [] })
  assert.deepEqual(missing.body.data.invite.error, { code: 'PROJECT_NOT_FOUND', developerMessage: 'Project nope was not found or you are not allowed to access it.', endUserMessage: null, membershipValidation: null })
  const invalid = await gql(server.url, ROOT_TOKEN, INVITE, { email: 'not-an-email', slug: 'inv', m: [{ role: 'ghost', variables: [] }] })
  assert.equal(invalid.body.data.invite.error.code, 'INVALID_MEMBERSHIP')
  assert.deepEqual(invalid.body.data.invite.errors.map((e: { code: string }) => e.code), ['INVALID_MEMBERSHIP', 'ROLE_NOT_FOUND'])
  const badEmail = await gql(server.url, ROOT_TOKEN, INVITE, { email: 'not-an-email', slug: 'inv', m: editor('x') })
  assert.equal(badEmail.body.data.invite.error.code, 'INVALID_EMAIL_FORMAT')

  const key = await gql(server.url, ROOT_TOKEN, 'mutation { createApiKey(projectSlug: "inv", memberships: [{role: "inviter", variables: []}], description: "inviter") { result { apiKey { token } } } }')
  const inviter = key.body.data.createApiKey.result.apiKey.token
  const forbiddenMissing = await gql(server.url, inviter, INVITE, { email: 'a@example.com', slug: 'nope', m: editor('x') })
  assert.equal(forbiddenMissing.body.errors[0].message, 'You are not allowed to invite a person')
  const forbiddenRole = await gql(server.url, inviter, INVITE, { email: 'b@example.com', slug: 'inv', m: [{ role: 'admin', variables: [] }] })
  assert.equal(forbiddenRole.body.errors[0].extensions.code, 'ForbiddenError')
  const allowed = await gql(server.url, inviter, INVITE, { email: 'c@example.com', slug: 'inv', m: editor('any') })
  assert.equal(allowed.body.data.invite.ok, true)
  assert.equal(allowed.body.data.invite.result.person.identity.roles, null, 'others\' roles are hidden from non-super-admins')
  const unmanaged = await gql(server.url, inviter, UNMANAGED, { email: 'd@example.com', slug: 'inv', m: editor('any') })
  assert.equal(unmanaged.body.errors[0].message, 'You are not allowed to unmanaged person invite', 'no unmanagedInvite rule')
})

test('unmanagedInvite: no mail, the given name (Contember ignored it), password or reset token hash', async () => {
  const res = await gql(server.url, ROOT_TOKEN, UNMANAGED, { email: 'Unmanaged@Example.com', name: 'Uma', slug: 'inv', m: editor('x'), options: { password: 'Unmanaged-pass-1' } })
  assert.deepEqual(res.body.data.unmanagedInvite.result.person.name, 'Uma')
  const signIn = await gql(server.url, LOGIN_TOKEN, SIGN_IN, { email: 'unmanaged@example.com', password: 'Unmanaged-pass-1' })
  assert.equal(signIn.body.data.signIn.ok, true)
  const deprecated = await gql(server.url, ROOT_TOKEN, UNMANAGED, { email: 'dep@example.com', slug: 'inv', m: editor('x'), password: 'Deprecated-pass-1' })
  assert.equal(deprecated.body.data.unmanagedInvite.ok, true)
  const token = 'a'.repeat(40)
  const hash = createHash('sha256').update(token).digest('hex')
  const withHash = await gql(server.url, ROOT_TOKEN, UNMANAGED, { email: 'hash@example.com', slug: 'inv', m: editor('x'), options: { resetTokenHash: hash } })
  assert.equal(withHash.body.data.unmanagedInvite.ok, true)
  const [row] = await server.runtime.ctx.db.select().from(personToken).where(eq(personToken.tokenHash, hash))
  assert.equal(row.type, 'password_reset')
  const badHash = await gql(server.url, ROOT_TOKEN, UNMANAGED, { email: 'bad@example.com', slug: 'inv', m: editor('x'), options: { resetTokenHash: 'ABC' } })
  assert.equal(badHash.body.errors[0].message, 'Invalid format of resetTokenHash. Must be hex-encoded sha256.')
  // A managed invite afterwards proves no mail was queued by the unmanaged ones.
  await gql(server.url, ROOT_TOKEN, INVITE, { email: 'marker@example.com', slug: 'inv', m: editor('x') })
  await sink.waitForMailTo('marker@example.com')
  for (const address of ['unmanaged@example.com', 'dep@example.com', 'hash@example.com']) assert.deepEqual(sink.mailsTo(address), [])
})

const ADD_TEMPLATE = 'mutation($t: MailTemplate!) { addMailTemplate(template: $t) { ok error { code developerMessage } errors { code } } }'
const REMOVE_TEMPLATE = 'mutation($t: MailTemplateIdentifier!) { removeMailTemplate(templateIdentifier: $t) { ok error { code developerMessage } } }'

test('mail templates: a project template with a variant shapes the invite mail; list, upsert, remove, errors', async () => {
  const template = { projectSlug: 'inv', type: 'EXISTING_USER_INVITED', variant: 'cs', subject: 'Pozvánka do {{project}}', content: '<p>Ahoj {{email}}</p>', useLayout: false, replyTo: 'help@example.com' }
  assert.deepEqual((await gql(server.url, ROOT_TOKEN, ADD_TEMPLATE, { t: template })).body.data.addMailTemplate, { ok: true, error: null, errors: [] })
  assert.equal((await gql(server.url, ROOT_TOKEN, ADD_TEMPLATE, { t: { ...template, subject: 'Pozvánka: {{project}}' } })).body.data.addMailTemplate.ok, true, 'upsert')
  const already = (await sink.waitForMailTo('new.editor@example.com', 2)).length
  await gql(server.url, ROOT_TOKEN, INVITE, { email: 'new.editor@example.com', slug: 'inv', m: editor('fr'), options: { mailVariant: 'cs' } })
  const mail = (await sink.waitForMailTo('new.editor@example.com', already + 1))[already]
  assert.equal(mail.subject, 'Pozvánka: Invite Co')
  assert.equal(mail.html.trim(), '<p>Ahoj new.editor@example.com</p>')
  assert.equal(mail.replyTo, 'help@example.com')

  await gql(server.url, ROOT_TOKEN, 'mutation($t: MailTemplate!) { addProjectMailTemplate(template: $t) { ok } }', { t: { type: 'RESET_PASSWORD_REQUEST', subject: 'Reset', content: 'x' } })
  const list = await gql(server.url, ROOT_TOKEN, '{ mailTemplates { projectSlug type variant subject content useLayout replyTo } }')
  assert.deepEqual(list.body.data.mailTemplates, [
    { projectSlug: 'inv', type: 'EXISTING_USER_INVITED', variant: 'cs', subject: 'Pozvánka: {{project}}', content: '<p>Ahoj {{email}}</p>', useLayout: false, replyTo: 'help@example.com' },
    { projectSlug: null, type: 'RESET_PASSWORD_REQUEST', variant: null, subject: 'Reset', content: 'x', useLayout: true, replyTo: null },
  ])
  const badReply = await gql(server.url, ROOT_TOKEN, ADD_TEMPLATE, { t: { ...template, replyTo: ' a@b.cz ' } })
  assert.deepEqual(badReply.body.data.addMailTemplate.error, { code: 'INVALID_REPLY_EMAIL_FORMAT', developerMessage: 'Reply-to email address is not in a valid format' })
  const noProject = await gql(server.url, ROOT_TOKEN, ADD_TEMPLATE, { t: { ...template, projectSlug: 'nope' } })
  assert.equal(noProject.body.data.addMailTemplate.error.code, 'PROJECT_NOT_FOUND')

  const removed = await gql(server.url, ROOT_TOKEN, REMOVE_TEMPLATE, { t: { projectSlug: 'inv', type: 'EXISTING_USER_INVITED', variant: 'cs' } })
  assert.deepEqual(removed.body.data.removeMailTemplate, { ok: true, error: null })
  const again = await gql(server.url, ROOT_TOKEN, REMOVE_TEMPLATE, { t: { projectSlug: 'inv', type: 'EXISTING_USER_INVITED', variant: 'cs' } })
  assert.deepEqual(again.body.data.removeMailTemplate, { ok: false, error: { code: 'PROJECT_NOT_FOUND', developerMessage: 'Mail template not found' } })
  const deprecated = await gql(server.url, ROOT_TOKEN, 'mutation { removeProjectMailTemplate(templateIdentifier: {type: RESET_PASSWORD_REQUEST}) { ok } }')
  assert.equal(deprecated.body.data.removeProjectMailTemplate.ok, true)
  const audits = await server.runtime.ctx.db.select().from(auditEvent).where(eq(auditEvent.type, 'mail_template_change'))
  assert.equal(audits.length, 5)

  // Permissions: the list and global templates are global-only; a project admin may manage its project's templates.
  const key = await gql(server.url, ROOT_TOKEN, 'mutation { createApiKey(projectSlug: "inv", memberships: [{role: "admin", variables: []}], description: "pa") { result { apiKey { token } } } }')
  const projectAdmin = key.body.data.createApiKey.result.apiKey.token
  const listDenied = await gql(server.url, projectAdmin, '{ mailTemplates { type } }')
  assert.equal(listDenied.status, 400, 'non-null root field: data null, HTTP 400')
  assert.deepEqual(listDenied.body.data, null)
  assert.equal(listDenied.body.errors[0].message, 'You are not allowed to list mail templates')
  const globalDenied = await gql(server.url, projectAdmin, ADD_TEMPLATE, { t: { ...template, projectSlug: null } })
  assert.equal(globalDenied.body.errors[0].message, 'You are not allowed to add a mail template')
  const projectAllowed = await gql(server.url, projectAdmin, ADD_TEMPLATE, { t: template })
  assert.equal(projectAllowed.body.data.addMailTemplate.ok, true)
  const removeDenied = await gql(server.url, projectAdmin, REMOVE_TEMPLATE, { t: { type: 'NEW_USER_INVITED' } })
  assert.equal(removeDenied.body.errors[0].message, 'You are not allowed to remove a mail template')
})
