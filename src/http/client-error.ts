/**
 * Answers a request Node could not parse (headers too large, too slow, malformed) as Fastify
 * does, plus `Connection: close`: the socket is destroyed right after, and without that header a
 * keep-alive client may put the socket back in its pool and lose its next request on it.
 */
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'

const ANSWERS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Client Timeout'],
  HPE_HEADER_OVERFLOW: [431, 'Exceeded maximum allowed HTTP header size'],
}

export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, message] = ANSWERS[error.code ?? ''] ?? [400, 'Client Error']
  const body = JSON.stringify({ error: STATUS_CODES[status], message, statusCode: status })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\n\r\n${body}`)
  }
  socket.destroy(error)
}
