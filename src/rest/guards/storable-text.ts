/**
 * Path parameters, query string and JSON body may carry no string PostgreSQL cannot store (NUL,
 * unpaired surrogates: http/storable-text.ts). Checked once for every route, after the signature
 * and before schema validation, and answered as a validation error naming the field.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { findUnstorableText, TEXT_PROBLEM_MESSAGES } from '../../http/storable-text.js'
import { HttpError } from '../errors.js'

/** A JSON-pointer-like path in the wording of validation errors: body/env/A. */
function pointer(root: string, path: (string | number)[]): string {
  return [root, ...path.map((part) => String(part).replace(/~/g, '~0').replace(/\//g, '~1'))].join('/')
}

export const storableTextGuard = fp(async (app: FastifyInstance) => {
  app.addHook('preValidation', async (request) => {
    const parts: [string, unknown][] = [['params', request.params], ['querystring', request.query], ['body', request.body]]
    for (const [root, value] of parts) {
      const found = findUnstorableText(value)
      if (!found) continue
      const at = pointer(root, found.path)
      const message = TEXT_PROBLEM_MESSAGES[found.problem]
      throw new HttpError(400, 'FST_ERR_VALIDATION', found.inKey ? `${at} keys ${message}` : `${at} ${message}`)
    }
  })
}, { name: 'tenants-api-storable-text' })
