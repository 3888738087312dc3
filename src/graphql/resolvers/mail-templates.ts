/** Mail templates: the mailTemplates query and add/remove(Project)MailTemplate (Contember §7.9). */
import { rolesAllow } from '../../domain/acl/permissions.js'
import { addMailTemplate, listMailTemplates, removeMailTemplate } from '../../domain/mail/templates.js'
import type { MailType } from '../../domain/mail/types.js'
import type { GraphQLContext } from '../context.js'
import { requireAccess } from '../errors.js'
import { errorPayload, okPayload, projectAndScope, projectNotFound } from './projects.js'

interface TemplateInput {
  projectSlug?: string | null
  type: MailType
  variant?: string | null
  subject: string
  content: string
  useLayout?: boolean | null
  replyTo?: string | null
}

/** Project scope when projectSlug names a project; the global scope otherwise (a missing project included). */
async function templateScope(context: GraphQLContext, projectSlug: string | null | undefined) {
  if (!projectSlug) return { project: null, allows: (action: 'mailTemplate:add' | 'mailTemplate:remove') => rolesAllow(context.auth.roles, action) }
  const { project, scope } = await projectAndScope(context, projectSlug)
  return { project, allows: (action: 'mailTemplate:add' | 'mailTemplate:remove') => scope.allows(action) }
}

async function add(_: unknown, { template }: { template: TemplateInput }, context: GraphQLContext) {
  const { project, allows } = await templateScope(context, template.projectSlug)
  requireAccess(allows('mailTemplate:add'), 'You are not allowed to add a mail template')
  if (template.projectSlug && !project) return projectNotFound(template.projectSlug)
  const outcome = await addMailTemplate(context.ctx, context.actor, { ...template, project })
  return outcome.ok ? okPayload() : errorPayload(outcome.code, outcome.message)
}

async function remove(_: unknown, { templateIdentifier: key }: { templateIdentifier: Omit<TemplateInput, 'subject' | 'content'> }, context: GraphQLContext) {
  const { project, allows } = await templateScope(context, key.projectSlug)
  requireAccess(allows('mailTemplate:remove'), 'You are not allowed to remove a mail template')
  if (key.projectSlug && !project) return projectNotFound(key.projectSlug)
  const removed = await removeMailTemplate(context.ctx, context.actor, { project, type: key.type, variant: key.variant })
  // Contember reports a missing template with PROJECT_NOT_FOUND; TEMPLATE_NOT_FOUND is never used.
  return removed ? okPayload() : errorPayload('PROJECT_NOT_FOUND', 'Mail template not found')
}

export const mailTemplateResolvers = {
  Query: {
    async mailTemplates(_: unknown, __: unknown, context: GraphQLContext) {
      requireAccess(rolesAllow(context.auth.roles, 'mailTemplate:list'), 'You are not allowed to list mail templates')
      return listMailTemplates(context.ctx)
    },
  },
  Mutation: {
    addMailTemplate: add,
    addProjectMailTemplate: add,
    removeMailTemplate: remove,
    removeProjectMailTemplate: remove,
  },
}
