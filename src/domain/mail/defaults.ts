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
  // 2.2 second factor and e-mail ownership mails (the code or token is the only secret in them).
  EMAIL_OTP: {
    subject: 'Your verification code',
    content: [
      '<h1>Your verification code</h1>',
      '<p>Use this code to confirm it is you ({{email}}): <code>{{code}}</code></p>',
      '<p>It expires in {{expiresInMinutes}} minutes. If you did not try to sign in, change your password.</p>',
    ].join('\n'),
  },
  BACKUP_CODES_EXHAUSTED: {
    subject: 'You have used your last backup code',
    content: [
      '<h1>No backup codes left</h1>',
      '<p>The last backup code of {{email}} was just used to sign in. Generate new backup codes in your account settings.</p>',
    ].join('\n'),
  },
  EMAIL_VERIFICATION: {
    subject: 'Verify your e-mail address',
    content: [
      '<h1>Verify your e-mail address</h1>',
      '<p>Confirm that <strong>{{email}}</strong> is yours{{#project}} for {{project}}{{/project}} with this token: <code>{{token}}</code></p>',
      '<p>If you did not ask for it, ignore this mail.</p>',
    ].join('\n'),
  },
  EMAIL_CHANGE_VERIFY: {
    subject: 'Confirm your new e-mail address',
    content: [
      '<h1>Confirm your new e-mail address</h1>',
      '<p>A change of the sign-in address {{oldEmail}} to <strong>{{email}}</strong> was requested.</p>',
      '<p>Confirm it with this token: <code>{{token}}</code></p>',
      '<p>If you did not ask for it, ignore this mail; the address stays unchanged.</p>',
    ].join('\n'),
  },
  EMAIL_CHANGE_NOTIFY: {
    subject: 'Your e-mail address was changed',
    content: [
      '<h1>Your e-mail address was changed</h1>',
      '<p>The sign-in address {{oldEmail}} was changed to <strong>{{newEmail}}</strong> and every session was signed out.</p>',
      '<p>If you did not do this, contact your administrator.</p>',
    ].join('\n'),
  },
  FORCED_SIGN_OUT: {
    subject: 'You have been signed out',
    content: [
      '<h1>You have been signed out</h1>',
      '<p>An administrator ended every session and API key of <strong>{{email}}</strong>.</p>',
      '{{#reason}}<p>Reason: {{reason}}</p>{{/reason}}',
      '<p>Sign in again to continue.</p>',
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
