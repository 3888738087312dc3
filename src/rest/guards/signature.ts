/**
 * Guard 3: X-Signature over the raw body bytes, before JSON parsing. Legacy (Chevereto) and
 * strong `t=…,v1=…` forms; strong signatures are single-use within their window (used_signature
 * table, shared by all nodes). No secret configured: signing is off (the server warns at start).
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { DomainContext } from '../../domain/context.js'
import { claimSignature, startReplaySweeper } from '../../domain/tenants-api/replay.js'
import { verifySignature } from '../../domain/tenants-api/signature.js'
import { HttpError } from '../errors.js'

const MESSAGES = {
  missing: ['SIGNATURE_MISSING', 'Missing X-Signature header'],
  malformed: ['SIGNATURE_MALFORMED', 'Invalid request signature: expected hex or t=<unix seconds>,v1=<hex>'],
  mismatch: ['SIGNATURE_INVALID', 'Invalid request signature'],
  expired: ['SIGNATURE_EXPIRED', 'Request signature timestamp is outside the tolerance window'],
  strong_required: ['SIGNATURE_FORM_REQUIRED', 'This server requires the X-Signature form t=<unix seconds>,v1=<hex>'],
  replayed: ['SIGNATURE_REPLAYED', 'Request signature was already used'],
} as const

const reject = (reason: keyof typeof MESSAGES) => new HttpError(401, MESSAGES[reason][0], MESSAGES[reason][1])

export const signatureGuard = fp(async (app: FastifyInstance, opts: { ctx: DomainContext }) => {
  const { requestSecrets, signatureMode, signatureToleranceSeconds } = opts.ctx.config.tenantsApi
  if (requestSecrets.length === 0) return
  const stopSweeper = startReplaySweeper(opts.ctx, (error) => app.log.warn({ err: error }, 'used_signature sweep failed'))
  app.addHook('onClose', async () => stopSweeper())
  app.addHook('preParsing', async (request, _reply, payload) => {
    const header = request.headers['x-signature']
    const result = verifySignature({
      header: Array.isArray(header) ? header.join(',') : header,
      secrets: requestSecrets,
      mode: signatureMode,
      method: request.method,
      pathWithQuery: request.url,
      body: request.rawBody ?? Buffer.alloc(0),
      nowSeconds: Math.floor(opts.ctx.clock().getTime() / 1000),
      toleranceSeconds: signatureToleranceSeconds,
    })
    if (!result.ok) throw reject(result.reason)
    if (result.form === 'strong' && !await claimSignature(opts.ctx, result.replayKey, result.expiresAtSeconds)) throw reject('replayed')
    return payload
  })
}, { name: 'tenants-api-signature' })
