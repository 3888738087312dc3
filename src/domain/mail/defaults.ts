/**
 * Built-in templates, used when neither the project nor the global scope has one for the
 * (type, variant). Subjects follow Contember's defaults; bodies are Mustache, so {{var}}
 * HTML-escapes and {{{var}}} does not.
 */
import type { MailType } from './types.js'

export interface MailTemplateContent {
  subject: string
  content: string
  useLayout: boolean
  replyTo: string | null
}

const DEFAULTS: Record<string, { subject: string, content: string }> = {
  NEW_USER_INVITED: {
    subject: 'You have been invited to {{project}}',
    content: [
      '<h1>You have been invited to {{project}}</h1>',
      '<p>An account was created for <strong>{{email}}</strong>.</p>',
      '{{#password}}<p>Your password: <code>{{password}}</code></p>{{/password}}',
      '{{#token}}<p>Set your password with this token: <code>{{token}}</code></p>{{/token}}',
    ].join('\n'),
  },
  EXISTING_USER_INVITED: {
    subject: 'You have been invited to {{project}}',
    content: '<h1>You have been invited to {{project}}</h1>\n<p>Sign in as <strong>{{email}}</strong> to access it.</p>',
  },
  RESET_PASSWORD_REQUEST: {
    subject: 'Password reset',
    content: [
      '<h1>Password reset</h1>',
      '<p>A password reset was requested for <strong>{{email}}</strong>{{#project}} in {{project}}{{/project}}.</p>',
      '<p>Your reset token: <code>{{token}}</code></p>',
      '<p>If you did not ask for it, ignore this mail.</p>',
    ].join('\n'),
  },
  PASSWORDLESS_SIGN_IN: {
    subject: 'Sign in here',
    content: [
      '<h1>Sign in</h1>',
      '{{#url}}<p><a href="{{url}}">Sign in as {{email}}</a></p>{{/url}}',
      '{{^url}}<p>Passwordless sign-in is misconfigured: no sign-in URL is set.</p>{{/url}}',
    ].join('\n'),
  },
}

const GENERIC = { subject: '{{subject}}', content: '{{{content}}}' }

export function defaultTemplate(type: MailType): MailTemplateContent {
  const found = DEFAULTS[type] ?? GENERIC
  return { ...found, useLayout: true, replyTo: null }
}

/** Contember's layout: a grey page with a white 600px card. `content` is already rendered HTML. */
export const LAYOUT = [
  '<div style="background:#f8f8f8;padding:40px 16px;font-family:Helvetica,Arial,sans-serif;color:#333333;">',
  '<div style="background-color:#ffffff;max-width:600px;margin:0 auto;padding:32px;border-radius:4px;">',
  '{{{content}}}',
  '</div>',
  '</div>',
].join('')
