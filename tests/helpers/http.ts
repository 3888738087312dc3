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
