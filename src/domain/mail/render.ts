/** Mustache rendering of a template, with the layout around it when the template asks for it. */
import Mustache from 'mustache'
import { LAYOUT, type MailTemplateContent } from './defaults.js'

export interface RenderedMail {
  subject: string
  html: string
  replyTo: string | null
}

export function renderMail(template: MailTemplateContent, variables: Record<string, unknown>): RenderedMail {
  const content = Mustache.render(template.content, variables)
  return {
    // A subject is a header, not HTML: no escaping there.
    subject: Mustache.render(template.subject, variables, {}, { escape: (value: unknown) => String(value) }).replace(/[\r\n]+/g, ' '),
    html: template.useLayout ? Mustache.render(LAYOUT, { content }) : content,
    replyTo: template.replyTo,
  }
}
