/**
 * updateProject and setProjectSecret (seed 003). Audit events name what changed, never a config
 * payload or a secret value.
 */
import { and, eq, sql } from 'drizzle-orm'
import { project, projectSecret } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { deepMerge } from './deep-merge.js'
import type { ProjectRow } from './queries.js'

export interface UpdateProjectInput {
  name?: string | null
  config?: Record<string, unknown> | null
  mergeConfig?: boolean | null
}

export async function updateProject(ctx: DomainContext, actor: Actor, target: ProjectRow, input: UpdateProjectInput): Promise<void> {
  const name = input.name || undefined
  const configGiven = input.config !== undefined && input.config !== null
  await ctx.db.transaction(async (tx) => {
    // Merge against the row as it is inside the transaction, not as the resolver read it.
    const [current] = await tx.select({ name: project.name, config: project.config }).from(project).where(eq(project.id, target.id)).for('update')
    const config = configGiven
      ? (input.mergeConfig ? deepMerge(current.config, input.config) : input.config) as Record<string, unknown>
      : undefined
    await tx.update(project).set({ name, config, updatedAt: ctx.clock() }).where(eq(project.id, target.id))
    const eventData: Record<string, unknown> = { slug: target.slug }
    if (name !== undefined && name !== current.name) Object.assign(eventData, { before: { name: current.name }, after: { name } })
    if (configGiven) Object.assign(eventData, { configChanged: true, mergeConfig: Boolean(input.mergeConfig) })
    await recordAudit(tx, actor, { type: 'project_update', projectId: target.id, eventData })
  })
}

/** Upserts one encrypted secret; an empty value removes it. */
export async function setProjectSecret(ctx: DomainContext, actor: Actor, target: ProjectRow, key: string, value: string): Promise<void> {
  const now = ctx.clock()
  await ctx.db.transaction(async (tx) => {
    if (value === '') {
      await tx.delete(projectSecret).where(and(eq(projectSecret.projectId, target.id), eq(projectSecret.key, key)))
    } else {
      await tx.insert(projectSecret).values({ projectId: target.id, key, valueEncrypted: ctx.encryption.encrypt(value), createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: [projectSecret.projectId, projectSecret.key],
          set: { valueEncrypted: sql`excluded.value_encrypted`, updatedAt: now },
        })
    }
    await tx.update(project).set({ updatedAt: now }).where(eq(project.id, target.id))
    await recordAudit(tx, actor, { type: 'project_secret_change', projectId: target.id, eventData: { slug: target.slug, key } })
  })
}
