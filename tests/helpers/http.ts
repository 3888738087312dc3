/** Small HTTP helpers over fetch: the tests are clients of the running server, nothing more. */
export interface HttpResponse<T = any> {
  status: number
  headers: Headers
  text: string
  body: T
}

export async function request<T = any>(url: string, init: RequestInit = {}): Promise<HttpResponse<T>> {
  const response = await fetch(url, init)
  const text = await response.text()
  let body: any
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  return { status: response.status, headers: response.headers, text, body }
}

/** POST a GraphQL document to /tenant with a bearer token. */
export async function gql<T = any>(baseUrl: string, token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<HttpResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  return request<T>(`${baseUrl}/tenant`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) })
}

/** node:http request, for headers that fetch forbids (CORS preflight, Host, forged X-Forwarded-For). */
export async function rawRequest(url: string, options: { method?: string, headers?: Record<string, string>, body?: string | Buffer, localAddress?: string } = {}): Promise<HttpResponse> {
  const { request: httpRequest } = await import('node:http')
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: target.hostname, port: target.port, path: target.pathname + target.search,
      method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress,
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body: any
        try { body = text ? JSON.parse(text) : undefined } catch { body = undefined }
        const headers = new Headers()
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, String(value))
        resolve({ status: res.statusCode ?? 0, headers, text, body })
      })
    })
    req.on('error', reject)
    if (options.body !== undefined) req.write(options.body)
    req.end()
  })
}
