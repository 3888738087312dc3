/**
 * sendTemplatedMail: renders a mail and writes it to mail_outbox inside the caller's transaction,
 * so a mail exists exactly when the action that caused it committed. Delivery happens after the
 * commit (dispatcher.ts). The body is encrypted at rest: it may carry tokens or passwords.
 */
import type { DbOrTx } from '../../db/client.js'
import { mailOutbox } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { resolveTemplate } from './lookup.js'
import { renderMail } from './render.js'
import type { MailType } from './types.js'

export interface TemplatedMail {
  type: MailType
  to: string
  projectId?: string | null
  /** Template variant (e.g. a locale); '' or undefined is the default variant. */
  variant?: string
  variables: Record<string, unknown>
}

export async function sendTemplatedMail(ctx: DomainContext, tx: DbOrTx, mail: TemplatedMail): Promise<void> {
  const projectId = mail.projectId ?? null
  const template = await resolveTemplate(tx, mail.type, projectId, mail.variant ?? '')
  const rendered = renderMail(template, mail.variables)
  const [row] = await tx.insert(mailOutbox).values({
    recipient: mail.to,
    subject: rendered.subject,
    bodyEncrypted: ctx.encryption.encrypt(rendered.html),
    replyTo: rendered.replyTo,
    mailType: mail.type,
    projectId,
    createdAt: ctx.clock(),
  }).returning({ id: mailOutbox.id })
  ctx.outbox.notify(row.id)
}
