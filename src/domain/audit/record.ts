/**
 * Writes one audit event. Called inside the transaction of the action it records, so an action
 * and its audit line commit or roll back together. Never pass a secret in eventData. When a
 * trusted proxy named the client, the proxy's own address goes to metadata.forwarderIp (2.2).
 */
import type { DbOrTx } from '../../db/client.js'
import { auditEvent } from '../../db/schema.js'
import type { Actor } from '../context.js'

export interface AuditInput {
  type: string
  success?: boolean
  errorCode?: string
  errorMessage?: string
  personId?: string | null
  targetPersonId?: string | null
  personTokenId?: string | null
  personInputIdentifier?: string | null
  identityProviderId?: string | null
  tenantId?: string | null
  projectId?: string | null
  eventData?: Record<string, unknown>
  metadata?: Record<string, unknown>
}

export async function recordAudit(db: DbOrTx, actor: Actor | undefined, input: AuditInput): Promise<void> {
  await db.insert(auditEvent).values({
    type: input.type,
    success: input.success ?? true,
    errorCode: input.errorCode,
    errorMessage: input.errorMessage,
    invokedById: actor?.identityId,
    personId: input.personId ?? actor?.personId,
    targetPersonId: input.targetPersonId,
    personTokenId: input.personTokenId,
    personInputIdentifier: input.personInputIdentifier,
    identityProviderId: input.identityProviderId,
    actor: actor?.apiKeyName,
    tenantId: input.tenantId,
    projectId: input.projectId,
    ipAddress: actor?.ip,
    userAgent: actor?.userAgent,
    requestId: actor?.requestId,
    eventData: input.eventData,
    metadata: actor?.forwarderIp ? { ...input.metadata, forwarderIp: actor.forwarderIp } : input.metadata,
  })
}
