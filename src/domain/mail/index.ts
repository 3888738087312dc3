/** The mail subsystem: templated mails written to the outbox in the caller's transaction, delivered after commit. */
export { sendTemplatedMail, type TemplatedMail } from './send.js'
export { startMailDispatcher, type MailDispatcher, type MailLogger } from './dispatcher.js'
export { createOutboxSignal, type OutboxSignal } from './outbox-signal.js'
export { storedMailType, mailTypeFromStored, type MailType } from './types.js'
export { defaultTemplate, type MailTemplateContent } from './defaults.js'
