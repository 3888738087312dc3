/**
 * createProject (seed 003): name defaults to the slug, config to {}; secrets stored encrypted;
 * a creator who is not super_admin becomes the project's admin; unless noDeployToken, a deploy
 * key (identity "Deploy key for <slug>", membership deployer) is created, with the caller's
 * token hash when given. One transaction; the slug's unique constraint decides races.
 */
import type { DbOrTx } from '../../db/client.js'
import { project, projectSecret } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { grantMemberships } from '../memberships/grant.js'
import { createProjectApiKey, type CreatedApiKey } from './api-keys.js'
import { isUniqueViolation } from './unique-violation.js'

export interface CreateProjectInput {
  slug: string
  name?: string | null
  config?: Record<string, unknown> | null
  secrets?: readonly { key: string, value: string }[] | null
  noDeployToken?: boolean
  deployTokenHash?: string
  /** The creator's identity; it becomes admin unless it is a super_admin. */
  creator: { identityId: string, isSuperAdmin: boolean }
}

export type CreateProjectResult = Result<{ projectId: string, deployerApiKey: CreatedApiKey | null }, 'ALREADY_EXISTS'>

const alreadyExists = (slug: string) => fail('ALREADY_EXISTS' as const, `Project ${slug} already exists`)

export async function createProject(ctx: DomainContext, actor: Actor, input: CreateProjectInput): Promise<CreateProjectResult> {
  const name = input.name || input.slug
  const now = ctx.clock()
  // Later entries win, as Contember's Object.fromEntries; an empty value means "no secret".
  const secrets = new Map((input.secrets ?? []).map((s) => [s.key, s.value]))
  try {
    return await ctx.db.transaction(async (tx: DbOrTx) => {
      const [created] = await tx.insert(project).values({ slug: input.slug, name, config: input.config ?? {}, createdAt: now, updatedAt: now })
        .onConflictDoNothing({ target: project.slug })
        .returning({ id: project.id })
      if (!created) return alreadyExists(input.slug)
      const stored = [...secrets].filter(([, value]) => value !== '')
      if (stored.length > 0) {
        await tx.insert(projectSecret).values(stored.map(([key, value]) => ({
          projectId: created.id, key, valueEncrypted: ctx.encryption.encrypt(value), createdAt: now, updatedAt: now,
        })))
      }
      if (!input.creator.isSuperAdmin) {
        await grantMemberships(tx, created.id, input.creator.identityId, [{ role: 'admin', variables: [] }], 'set', ctx.config.traefik.tenantEnforced)
      }
      const deployerApiKey = input.noDeployToken
        ? null
        : await createProjectApiKey(tx, {
          projectId: created.id,
          description: `Deploy key for ${input.slug}`,
          memberships: [{ role: 'deployer', variables: [] }],
          tokenHash: input.deployTokenHash,
          now,
        })
      await recordAudit(tx, actor, {
        type: 'project_create',
        projectId: created.id,
        eventData: { slug: input.slug, name, secretKeys: stored.map(([key]) => key) },
      })
      return ok({ projectId: created.id, deployerApiKey })
    })
  } catch (error) {
    if (isUniqueViolation(error)) return alreadyExists(input.slug)
    throw error
  }
}
