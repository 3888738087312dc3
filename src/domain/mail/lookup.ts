/**
 * Which template renders a mail: the project's (type, variant), then the global one, then the
 * built-in default. No fallback from a variant to the default variant, as in Contember.
 */
import { and, eq, isNull } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { mailTemplate } from '../../db/schema.js'
import { defaultTemplate, type MailTemplateContent } from './defaults.js'
import { storedMailType, type MailType } from './types.js'

export async function resolveTemplate(db: DbOrTx, type: MailType, projectId: string | null, variant: string): Promise<MailTemplateContent> {
  const stored = storedMailType(type)
  const select = { subject: mailTemplate.subject, content: mailTemplate.content, useLayout: mailTemplate.useLayout, replyTo: mailTemplate.replyTo }
  if (projectId) {
    const [own] = await db.select(select).from(mailTemplate)
      .where(and(eq(mailTemplate.projectId, projectId), eq(mailTemplate.mailType, stored), eq(mailTemplate.variant, variant)))
    if (own) return own
  }
  const [global] = await db.select(select).from(mailTemplate)
    .where(and(isNull(mailTemplate.projectId), eq(mailTemplate.mailType, stored), eq(mailTemplate.variant, variant)))
  return global ?? defaultTemplate(type)
}
