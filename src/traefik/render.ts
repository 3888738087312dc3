/**
 * The Traefik HTTP-provider document as a pure function of the routable tenants and the
 * settings. Output bytes are deterministic (sorted keys and routers, no timestamps), because
 * Traefik reloads on any byte change. Router names are Chevereto's (reference §10): `*` for the
 * root hostname and the tenant id for each tenant. Tenant ids are [A-Za-z0-9][A-Za-z0-9_-]{0,15}
 * (never `*`, no `@` or backticks) and hostnames RFC 1123 names, so names and rules cannot break.
 */
export interface TraefikSettings {
  rootHostname: string
  serviceName: string
  servicePort: number
  entryPoint?: string
  /** IPs/CIDRs; the token `cloudflare` expands to Cloudflare's published ranges. */
  proxyIpAllowList: string[]
  certResolver?: string
}

export interface RoutableTenant { id: string, hostname: string }

/** Cloudflare's published ranges (cloudflare.com/ips), as Chevereto's fallback list. */
export const CLOUDFLARE_RANGES = [
  '173.245.48.0/20', '103.21.244.0/22', '103.22.200.0/22', '103.31.4.0/22', '141.101.64.0/18',
  '108.162.192.0/18', '190.93.240.0/20', '188.114.96.0/20', '197.234.240.0/22', '198.41.128.0/17',
  '162.158.0.0/15', '104.16.0.0/13', '104.24.0.0/14', '172.64.0.0/13', '131.0.72.0/22',
  '2400:cb00::/32', '2606:4700::/32', '2803:f800::/32', '2405:b500::/32', '2405:8100::/32',
  '2a06:98c0::/29', '2c0f:f248::/32',
]

export const ALLOW_RANGE = 'allow-range'
/** The root hostname's router key, as Chevereto names it. */
export const ROOT_ROUTER = '*'

export function sourceRange(list: string[]): string[] {
  const out: string[] = []
  for (const item of list) {
    for (const range of item === 'cloudflare' ? CLOUDFLARE_RANGES : [item]) if (!out.includes(range)) out.push(range)
  }
  return out
}

function router(hostname: string, settings: TraefikSettings, withAllowList: boolean): Record<string, unknown> {
  const value: Record<string, unknown> = { rule: `Host(\`${hostname}\`)`, service: settings.serviceName }
  if (settings.entryPoint) value.entryPoints = [settings.entryPoint]
  if (withAllowList) value.middlewares = [ALLOW_RANGE]
  if (settings.certResolver) value.tls = { certResolver: settings.certResolver }
  return value
}

export function renderTraefikConfig(tenants: RoutableTenant[], settings: TraefikSettings): Record<string, unknown> {
  const ranges = sourceRange(settings.proxyIpAllowList)
  const withAllowList = ranges.length > 0
  const routers: Record<string, unknown> = { [ROOT_ROUTER]: router(settings.rootHostname, settings, withAllowList) }
  for (const tenant of [...tenants].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    routers[tenant.id] = router(tenant.hostname, settings, withAllowList)
  }
  const http: Record<string, unknown> = {
    routers,
    services: {
      [settings.serviceName]: {
        loadBalancer: { passHostHeader: true, servers: [{ url: `http://${settings.serviceName}:${settings.servicePort}` }] },
      },
    },
  }
  if (withAllowList) http.middlewares = { [ALLOW_RANGE]: { ipAllowList: { sourceRange: ranges } } }
  return { http }
}

/** JSON with object keys sorted at every depth (arrays keep their order), pretty-printed. */
export function stableJson(value: unknown): string {
  const sort = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(sort)
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.keys(node).sort().map((key) => [key, sort((node as Record<string, unknown>)[key])]))
    }
    return node
  }
  return JSON.stringify(sort(value), null, 2) + '\n'
}
