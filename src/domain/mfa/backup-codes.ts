/**
 * Backup codes (2.2): ten single-use recovery codes that stand in for the second factor. Only
 * their SHA-256 is stored (each code carries 50 random bits, so a fast hash is enough); the
 * plain codes are returned once, when they are issued. A new set replaces the old one whole.
 */
import { randomInt } from 'node:crypto'
import { and, eq, isNull } from 'drizzle-orm'
import type { DbOrTx, Tx } from '../../db/client.js'
import { personBackupCode } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { sha256Hex } from '../crypto/tokens.js'
import { fail, ok, type Result } from '../errors.js'
import { sendTemplatedMail } from '../mail/index.js'
import { preferredMailProject } from '../passwordless/mail-project.js'
import { mailRecipient, mfaFlags, unusedBackupCodeCount } from './state.js'

export const BACKUP_CODE_COUNT = 10
// Crockford-like alphabet without 0/O, 1/I/L: codes are read from paper and typed by hand.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'
const GROUP = 5

function generateCode(): string {
  let raw = ''
  for (let i = 0; i < GROUP * 2; i++) raw += ALPHABET[randomInt(ALPHABET.length)]
  return `${raw.slice(0, GROUP)}-${raw.slice(GROUP)}`
}

/** What is hashed: case, spaces and dashes do not matter when a code is typed back. */
function hashCode(code: string): string {
  return sha256Hex(code.toLowerCase().replace(/[\s-]/g, ''))
}

/** Replaces the person's codes with a fresh set inside the caller's transaction; returns the plain codes. */
export async function issueBackupCodes(ctx: DomainContext, tx: DbOrTx, personId: string): Promise<string[]> {
  await tx.delete(personBackupCode).where(eq(personBackupCode.personId, personId))
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, generateCode)
  const now = ctx.clock()
  await tx.insert(personBackupCode).values(codes.map((code) => ({ personId, codeHash: hashCode(code), createdAt: now })))
  return codes
}

export async function deleteBackupCodes(tx: DbOrTx, personId: string): Promise<number> {
  const removed = await tx.delete(personBackupCode).where(eq(personBackupCode.personId, personId)).returning({ id: personBackupCode.id })
  return removed.length
}

/** Issues a first set when a second factor is switched on (audited `backup_code_generated`). */
export async function issueBackupCodesOnEnrollment(ctx: DomainContext, tx: Tx, actor: Actor, personId: string, method: 'totp' | 'email'): Promise<string[]> {
  const codes = await issueBackupCodes(ctx, tx, personId)
  await recordAudit(tx, actor, { type: 'backup_code_generated', personId, eventData: { count: codes.length, method } })
  return codes
}

export async function regenerateBackupCodes(ctx: DomainContext, actor: Actor, personId: string): Promise<Result<string[], 'OTP_NOT_ACTIVE'>> {
  return ctx.db.transaction(async (tx) => {
    const flags = await mfaFlags(tx, personId, true)
    if (!flags.totp && !flags.emailOtp) {
      await recordAudit(tx, actor, { type: 'backup_code_regenerated', personId, success: false, errorCode: 'OTP_NOT_ACTIVE' })
      return fail('OTP_NOT_ACTIVE', 'No second factor is active: backup codes exist only with TOTP or e-mail OTP.')
    }
    const codes = await issueBackupCodes(ctx, tx, personId)
    await recordAudit(tx, actor, { type: 'backup_code_regenerated', personId, eventData: { count: codes.length } })
    return ok(codes)
  })
}

/**
 * Spends one code in the caller's sign-in transaction. The conditional update lets only one of
 * two concurrent uses of a code succeed. The last code triggers BACKUP_CODES_EXHAUSTED.
 */
export async function useBackupCode(ctx: DomainContext, tx: Tx, actor: Actor | undefined, personId: string, code: string): Promise<boolean> {
  const used = await tx.update(personBackupCode).set({ usedAt: ctx.clock() })
    .where(and(eq(personBackupCode.personId, personId), eq(personBackupCode.codeHash, hashCode(code)), isNull(personBackupCode.usedAt)))
    .returning({ id: personBackupCode.id })
  if (used.length === 0) return false
  const remaining = await unusedBackupCodeCount(tx, personId)
  await recordAudit(tx, actor, { type: 'backup_code_used', personId, eventData: { remaining } })
  if (remaining === 0) {
    const recipient = await mailRecipient(tx, personId)
    if (recipient?.email) {
      const project = await preferredMailProject(tx, recipient.identityId, recipient.roles, null)
      await sendTemplatedMail(ctx, tx, {
        type: 'BACKUP_CODES_EXHAUSTED', to: recipient.email, projectId: project?.id ?? null,
        variables: { email: recipient.email, project: project?.name, projectSlug: project?.slug },
      })
    }
  }
  return true
}
