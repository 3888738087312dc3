/**
 * Request body schemas (types, required keys, no unknown keys). The finer rules (id and
 * hostname syntax, password policy) live in domain/ so the CLI applies them too.
 */
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const
const limitsMap = { type: 'object', additionalProperties: { type: ['string', 'null'] } } as const

export const tenantCreateBody = {
  type: 'object',
  required: ['id', 'hostname', 'is_enabled'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    hostname: { type: 'string' },
    is_enabled: { type: 'boolean' },
    plan_id: { type: ['string', 'null'] },
    limits: limitsMap,
    env: stringMap,
  },
} as const

export const tenantEditBody = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: {
    hostname: { type: 'string' },
    is_enabled: { type: 'boolean' },
    plan_id: { type: ['string', 'null'] },
    limits: limitsMap,
    env: stringMap,
  },
} as const

export const installBody = {
  type: 'object',
  required: ['username', 'email', 'password'],
  additionalProperties: false,
  properties: { username: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' } },
} as const

export const passwordResetBody = {
  type: 'object',
  required: ['username'],
  additionalProperties: false,
  properties: { username: { type: 'string' }, password: { type: ['string', 'null'] } },
} as const

export const planCreateBody = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  // `name` is accepted and ignored, as Chevereto does.
  properties: { id: { type: 'string' }, name: { type: 'string' }, limits: stringMap, env: stringMap },
} as const

export const planEditBody = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: { limits: stringMap, env: stringMap },
} as const

/** DELETE /tenants/{id}: no body, or `{"drop_tables": bool}`. */
export const tenantDeleteBody = {
  type: 'object',
  additionalProperties: false,
  properties: { drop_tables: { type: 'boolean' } },
} as const
