/**
 * `me`, and the Identity and Person types. An identity reaches resolvers as an IdentityRef; its
 * roles are shown for the caller itself (the token's roles) and otherwise only to callers who may
 * view permissions (Contember §5). `Identity.apiKey` is always null, as in Contember.
 */
import { rolesAllow } from '../../domain/acl/permissions.js'
import { identitiesByIds, personsByIdentityIds, type PersonRow } from '../../domain/identity/queries.js'
import type { GraphQLContext } from '../context.js'

export interface IdentityRef {
  id: string
  /** Stored roles when already loaded; visibility is decided by the resolver. */
  roles?: string[] | null
  description?: string | null
}

const isSelf = (identity: IdentityRef, context: GraphQLContext) => identity.id === context.auth.identityId

/** Another identity's roles are loaded only when the caller may see them (and were not loaded with it). */
async function visibleRoles(identity: IdentityRef, context: GraphQLContext): Promise<string[] | null> {
  if (isSelf(identity, context)) return context.auth.roles
  if (!rolesAllow(context.auth.roles, 'identity:viewPermissions')) return null
  if (identity.roles) return identity.roles
  return (await identitiesByIds(context.ctx.db, [identity.id])).get(identity.id)?.roles ?? null
}

export const identityResolvers = {
  Query: {
    me: (_: unknown, __: unknown, context: GraphQLContext): IdentityRef => ({ id: context.auth.identityId, description: null }),
  },
  Identity: {
    description: (identity: IdentityRef) => identity.description ?? null,
    apiKey: () => null,
    roles: (identity: IdentityRef, _: unknown, context: GraphQLContext) => visibleRoles(identity, context),
    permissions: async (identity: IdentityRef, _: unknown, context: GraphQLContext) => {
      const roles = await visibleRoles(identity, context)
      if (!roles) return null
      return {
        canCreateProject: rolesAllow(roles, 'project:create'),
        canDeployEntrypoint: rolesAllow(roles, 'entrypoint:deployEntrypoint'),
      }
    },
  },
  Person: {
    identity: (person: PersonRow): IdentityRef => ({ id: person.identityId }),
  },
}

export const identityLoaders = {
  Identity: {
    async person(queries: { obj: IdentityRef }[], context: GraphQLContext) {
      // The caller's own person came with authentication: in a read-only request it needs no second query.
      const fromAuth = context.readOnly
      const ids = queries.map((q) => q.obj.id).filter((id) => !(fromAuth && isSelf({ id }, context)))
      const persons = ids.length > 0 ? await personsByIdentityIds(context.ctx.db, ids) : new Map<string, PersonRow>()
      return queries.map((q) => (fromAuth && isSelf(q.obj, context) ? context.auth.person : persons.get(q.obj.id)) ?? null)
    },
  },
}
