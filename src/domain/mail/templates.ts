/**
 * Mail template administration (addMailTemplate / removeMailTemplate / mailTemplates): templates
 * are keyed by (project or global, type, variant) and upserted; variant '' is the default.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import { mailTemplate, project } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { isValidEmail } from '../identity/email.js'
import { mailTypeFromStored, storedMailType, type MailType } from './types.js'

export interface MailTemplateKey {
  project: { id: string, slug: string } | null
  type: MailType
  variant?: string | null
}

export interface MailTemplateInput extends MailTemplateKey {
  subject: string
  content: string
  useLayout?: boolean | null
  replyTo?: string | null
}

export async function addMailTemplate(ctx: DomainContext, actor: Actor, input: MailTemplateInput): Promise<Result<null, 'INVALID_REPLY_EMAIL_FORMAT'>> {
  // Checked before trimming, as Contember: " a@b.cz " is refused.
  if (input.replyTo && !isValidEmail(input.replyTo)) {
    return fail('INVALID_REPLY_EMAIL_FORMAT', 'Reply-to email address is not in a valid format')
  }
  const values = {
    projectId: input.project?.id ?? null,
    mailType: storedMailType(input.type),
    variant: input.variant || '',
    subject: input.subject,
    content: input.content,
    useLayout: typeof input.useLayout === 'boolean' ? input.useLayout : true,
    replyTo: input.replyTo?.trim() || null,
  }
  const set = { subject: values.subject, content: values.content, useLayout: values.useLayout, replyTo: values.replyTo }
  await ctx.db.transaction(async (tx) => {
    const insert = tx.insert(mailTemplate).values(values)
    await (input.project
      ? insert.onConflictDoUpdate({ target: [mailTemplate.projectId, mailTemplate.mailType, mailTemplate.variant], targetWhere: sql`project_id IS NOT NULL`, set })
      : insert.onConflictDoUpdate({ target: [mailTemplate.mailType, mailTemplate.variant], targetWhere: sql`project_id IS NULL`, set }))
    await recordAudit(tx, actor, { type: 'mail_template_change', projectId: input.project?.id, eventData: auditData('add', input) })
  })
  return ok(null)
}

function auditData(action: 'add' | 'remove', key: MailTemplateKey) {
  return { action, type: key.type, projectSlug: key.project?.slug ?? null, variant: key.variant || null }
}

/** False when no such template exists. */
export async function removeMailTemplate(ctx: DomainContext, actor: Actor, key: MailTemplateKey): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const removed = await tx.delete(mailTemplate).where(and(
      key.project ? eq(mailTemplate.projectId, key.project.id) : isNull(mailTemplate.projectId),
      eq(mailTemplate.mailType, storedMailType(key.type)),
      eq(mailTemplate.variant, key.variant || ''),
    )).returning({ id: mailTemplate.id })
    if (removed.length === 0) return false
    await recordAudit(tx, actor, { type: 'mail_template_change', projectId: key.project?.id, eventData: auditData('remove', key) })
    return true
  })
}

export interface MailTemplateData {
  projectSlug: string | null
  type: MailType
  variant: string | null
  subject: string
  content: string
  useLayout: boolean
  replyTo: string | null
}

export async function listMailTemplates(ctx: DomainContext): Promise<MailTemplateData[]> {
  const rows = await ctx.db.select({
    projectSlug: project.slug, mailType: mailTemplate.mailType, variant: mailTemplate.variant, subject: mailTemplate.subject,
    content: mailTemplate.content, useLayout: mailTemplate.useLayout, replyTo: mailTemplate.replyTo,
  }).from(mailTemplate).leftJoin(project, eq(project.id, mailTemplate.projectId))
    .orderBy(asc(project.slug), asc(mailTemplate.mailType), asc(mailTemplate.variant))
  return rows.map(({ mailType, variant, ...row }) => ({ ...row, type: mailTypeFromStored(mailType), variant: variant || null }))
}
