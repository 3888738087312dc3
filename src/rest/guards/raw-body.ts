/**
 * Reads the request body into request.rawBody before anything parses it, refusing more than
 * the limit with 413, and hands the same bytes on to the content-type parser. The signature
 * guard runs on exactly these bytes.
 */
import { Readable } from 'node:stream'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { HttpError } from '../errors.js'

const tooLarge = (limit: number) => new HttpError(413, 'FST_ERR_CTP_BODY_TOO_LARGE', `Request body is too large (at most ${limit} bytes)`)

const EMPTY = Buffer.alloc(0)

export const rawBodyReader = fp(async (app: FastifyInstance, opts: { limit: number }) => {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const { 'content-length': length, 'transfer-encoding': chunked } = request.headers
    // No body announced (most GETs): nothing to read, and waiting for the stream's end costs a turn of the loop.
    if (chunked === undefined && (length === undefined || length === '0')) {
      request.rawBody = EMPTY
      return payload
    }
    if (Number(length) > opts.limit) throw tooLarge(opts.limit)
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of payload) {
      size += (chunk as Buffer).length
      if (size > opts.limit) throw tooLarge(opts.limit)
      chunks.push(chunk as Buffer)
    }
    request.rawBody = Buffer.concat(chunks)
    const replay = Readable.from(request.rawBody.length > 0 ? [request.rawBody] : [])
    return Object.assign(replay, { receivedEncodedLength: request.rawBody.length })
  })
}, { name: 'tenants-api-raw-body' })
