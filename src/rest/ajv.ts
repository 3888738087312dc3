/**
 * The REST surface's validator: strict types (no coercion of "true" into true), no silent
 * removal of unknown keys, no defaults injected. Fastify's default Ajv does all three.
 */
import { Ajv } from 'ajv'

export const restAjv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false })
