/**
 * A tenant's audit trail: the events recorded with its id (REST) or on its project (GraphQL
 * actions carry the project), newest first, in offset pages. Same table as authLog.
 */
import { desc, eq, or } from 'drizzle-orm'
import { auditEvent, tenant } from '../../db/schema.js'
import type { DomainContext } from '../context.js'
import { DomainError } from '../errors.js'
import { tenantNotFound } from './tenants.js'

export const TENANT_AUDIT_DEFAULT_LIMIT = 50
export const TENANT_AUDIT_MAX_LIMIT = 500

export interface TenantAuditEvent {
  id: string
  created_at: string
  type: string
  success: boolean
  error_code: string | null
  /** REST: the tenants API key's name; GraphQL: the calling identity. */
  actor: { api_key_name: string | null, identity_id: string | null }
  tenant_id: string
  project_id: string | null
  person_id: string | null
  target_person_id: string | null
  ip_address: string | null
  user_agent: string | null
  request_id: string | null
  event_data: Record<string, unknown> | null
}

export interface TenantAuditPage { events: TenantAuditEvent[], limit: number, offset: number, has_more: boolean }

function pageNumber(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  const number = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : NaN
  if (!(number >= min && number <= max)) throw new DomainError('invalid_input', 'INVALID_PAGE', `${field} must be a whole number from ${min} to ${max}`, field)
  return number
}

/** Live and archived tenants both have a trail; a purged one has only its purge event, not readable here. */
export async function tenantAudit(ctx: DomainContext, id: string, query: { limit?: unknown, offset?: unknown }): Promise<TenantAuditPage> {
  const limit = pageNumber(query.limit, 'limit', 1, TENANT_AUDIT_MAX_LIMIT, TENANT_AUDIT_DEFAULT_LIMIT)
  const offset = pageNumber(query.offset, 'offset', 0, 1e9, 0)
  const [row] = await ctx.db.select({ projectId: tenant.projectId }).from(tenant).where(eq(tenant.id, id)).limit(1)
  if (!row) throw tenantNotFound(id)
  const rows = await ctx.db.select().from(auditEvent)
    .where(or(eq(auditEvent.tenantId, id), eq(auditEvent.projectId, row.projectId)))
    .orderBy(desc(auditEvent.createdAt), desc(auditEvent.seq))
    .limit(limit + 1)
    .offset(offset)
  return {
    events: rows.slice(0, limit).map((event) => ({
      id: event.id,
      created_at: event.createdAt.toISOString(),
      type: event.type,
      success: event.success,
      error_code: event.errorCode,
      actor: { api_key_name: event.actor, identity_id: event.invokedById },
      tenant_id: event.tenantId ?? id,
      project_id: event.projectId,
      person_id: event.personId,
      target_person_id: event.targetPersonId,
      ip_address: event.ipAddress,
      user_agent: event.userAgent,
      request_id: event.requestId,
      event_data: event.eventData,
    })),
    limit,
    offset,
    has_more: rows.length > limit,
  }
}
