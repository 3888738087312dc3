/**
 * A person's own IdP connections (2.2): listed on Person.identityProviders and removed with
 * disconnectMyIdentityProvider. Removing the last connection of a person who can sign in only
 * through an IdP (idp_only, or no e-mail for a password reset or passwordless link) would lock
 * them out, so it is refused as LAST_AUTH_METHOD; the person row is locked, so two concurrent
 * disconnects cannot each leave the other as "the last one".
 */
import { and, asc, eq, inArray, ne } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.js'
import { identity, identityProvider, person, personIdentityProvider } from '../../db/schema.js'
import { recordAudit } from '../audit/record.js'
import type { Actor, DomainContext } from '../context.js'
import { fail, ok, type Result } from '../errors.js'
import { UUID } from '../identity/queries.js'

export interface PersonIdpConnection {
  id: string
  createdAt: Date
  externalIdentifier: string
  identityProvider: { slug: string, type: string, disabledAt: Date | null }
}

export async function connectionsByPersonIds(db: DbOrTx, personIds: readonly string[]): Promise<Map<string, PersonIdpConnection[]>> {
  const result = new Map<string, PersonIdpConnection[]>()
  if (personIds.length === 0) return result
  const rows = await db.select({
    personId: personIdentityProvider.personId, id: personIdentityProvider.id, createdAt: personIdentityProvider.createdAt,
    externalIdentifier: personIdentityProvider.externalIdentifier,
    slug: identityProvider.slug, type: identityProvider.type, disabledAt: identityProvider.disabledAt,
  }).from(personIdentityProvider)
    .innerJoin(identityProvider, eq(identityProvider.id, personIdentityProvider.identityProviderId))
    .where(inArray(personIdentityProvider.personId, [...new Set(personIds)]))
    .orderBy(asc(personIdentityProvider.createdAt), asc(personIdentityProvider.id))
  for (const { personId, slug, type, disabledAt, ...connection } of rows) {
    const list = result.get(personId) ?? []
    list.push({ ...connection, identityProvider: { slug, type, disabledAt } })
    result.set(personId, list)
  }
  return result
}

/** Global roles per person id: what the visibility check on another person's connections uses. */
export async function rolesByPersonIds(db: DbOrTx, personIds: readonly string[]): Promise<Map<string, string[]>> {
  if (personIds.length === 0) return new Map()
  const rows = await db.select({ id: person.id, roles: identity.roles }).from(person)
    .innerJoin(identity, eq(identity.id, person.identityId)).where(inArray(person.id, [...new Set(personIds)]))
  return new Map(rows.map((row) => [row.id, row.roles]))
}

export type DisconnectIdpCode = 'NOT_FOUND' | 'LAST_AUTH_METHOD'

export async function disconnectMyIdentityProvider(ctx: DomainContext, actor: Actor, personId: string, connectionId: string): Promise<Result<null, DisconnectIdpCode>> {
  return ctx.db.transaction(async (tx) => {
    const failed = async (code: DisconnectIdpCode, message: string, identityProviderId: string | null = null) => {
      await recordAudit(tx, actor, { type: 'idp_disconnect', success: false, errorCode: code, errorMessage: message, personId, identityProviderId })
      return fail(code, message)
    }
    const [owner] = await tx.select({ idpOnly: person.idpOnly, email: person.email }).from(person).where(eq(person.id, personId)).for('update')
    const [link] = UUID.test(connectionId) && owner
      ? await tx.select({ id: personIdentityProvider.id, providerId: identityProvider.id, slug: identityProvider.slug })
        .from(personIdentityProvider)
        .innerJoin(identityProvider, eq(identityProvider.id, personIdentityProvider.identityProviderId))
        .where(and(eq(personIdentityProvider.id, connectionId), eq(personIdentityProvider.personId, personId)))
      : []
    if (!link) return failed('NOT_FOUND', `You have no identity provider connection with id ${connectionId}`)
    const others = await tx.select({ id: personIdentityProvider.id }).from(personIdentityProvider)
      .where(and(eq(personIdentityProvider.personId, personId), ne(personIdentityProvider.id, link.id))).limit(1)
    if (others.length === 0 && (owner.idpOnly || !owner.email)) {
      return failed('LAST_AUTH_METHOD', 'This connection is your only way to sign in and cannot be removed', link.providerId)
    }
    await tx.delete(personIdentityProvider).where(eq(personIdentityProvider.id, link.id))
    await recordAudit(tx, actor, { type: 'idp_disconnect', personId, identityProviderId: link.providerId, eventData: { id: link.id, slug: link.slug } })
    return ok(null)
  })
}
