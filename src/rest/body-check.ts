/**
 * Validation of an optional body (DELETE, where an empty body is valid) with the same Ajv
 * settings and error wording as route schemas.
 */
import type { ValidateFunction } from 'ajv'
import { restAjv } from './ajv.js'
import { HttpError, validationMessage } from './errors.js'

export function compileBodyCheck(schema: object): (body: unknown) => unknown {
  const validate: ValidateFunction = restAjv.compile(schema)
  return (body) => {
    if (body === undefined || body === null) return undefined
    if (!validate(body)) throw new HttpError(400, 'FST_ERR_VALIDATION', validationMessage(validate.errors as never, 'body'))
    return body
  }
}
