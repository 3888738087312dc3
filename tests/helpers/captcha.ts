/**
 * A loopback server speaking the siteverify contract that Turnstile, hCaptcha and reCAPTCHA
 * share: POST form `secret`, `response`, `remoteip` → JSON `{ success, score? }`. It accepts
 * the token "human" (score 0.9), answers "bot-ish" with success and score 0.1, and refuses
 * everything else or any other secret. Every request is kept for assertions.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export const CAPTCHA_SECRET = 'captcha-secret-for-tests'

export interface SiteverifyServer {
  url: string
  requests: Record<string, string>[]
  close(): Promise<void>
}

export async function startSiteverify(): Promise<SiteverifyServer> {
  const requests: Record<string, string>[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
      requests.push({ ...form, contentType: String(req.headers['content-type']), method: String(req.method) })
      const known = form.secret === CAPTCHA_SECRET
      const answer = known && form.response === 'human' ? { success: true, score: 0.9 }
        : known && form.response === 'bot-ish' ? { success: true, score: 0.1 }
          : { success: false, 'error-codes': ['invalid-input-response'] }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/siteverify`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
