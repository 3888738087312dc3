/**
 * Who the client is, decided in one place for both surfaces. The socket peer is the client
 * unless it is a trusted proxy (TRUSTED_PROXIES, CIDRs; nothing is trusted by default, not even
 * loopback): then X-Forwarded-For is read from the right and the first address that is not a
 * trusted proxy is the client. X-Contember-Client-IP / X-Contember-Client-User-Agent (Contember
 * 2.2) name the end client on behalf of a backend; they are believed only from a trusted peer
 * AND for an API key created with trustForwardedClientInfo, and otherwise ignored.
 */
import { BlockList, isIP } from 'node:net'
import type { IncomingHttpHeaders } from 'node:http'

export interface ClientInfo {
  /** The client's address as the rate limits and the audit log see it. */
  ip: string
  userAgent?: string
  /** The socket peer (the proxy when one forwarded the request). */
  peerIp: string
  /** True when ip or userAgent came from a forwarding header. */
  forwarded: boolean
}

export interface ClientInfoSource {
  socketAddress: string | undefined
  headers: IncomingHttpHeaders
}

const MAX_USER_AGENT = 512

/** ::ffff:1.2.3.4 is the IPv4 client 1.2.3.4 on a dual-stack socket. */
export function normalizeIp(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return mapped ? mapped[1] : address
}

/** An X-Forwarded-For entry as an address: brackets and ports removed; null when it is none. */
function forwardedAddress(entry: string): string | null {
  let value = entry.trim()
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value)
  if (bracketed) value = bracketed[1]
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'))
  value = normalizeIp(value)
  return isIP(value) ? value : null
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

export class ClientInfoResolver {
  private readonly trusted = new BlockList()

  constructor(trustedProxies: readonly string[]) {
    for (const item of trustedProxies) {
      const [address, prefix] = item.split('/')
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
      if (prefix === undefined) this.trusted.addAddress(normalizeIp(address), family)
      else this.trusted.addSubnet(address, Number(prefix), family)
    }
  }

  isTrusted(address: string): boolean {
    const family = isIP(address)
    return family !== 0 && this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }

  /**
   * The client as seen through trusted proxies. `trustForwardedInfo`: the caller's API key may
   * name the end client with the X-Contember-Client-* headers.
   */
  resolve(source: ClientInfoSource, trustForwardedInfo = false): ClientInfo {
    const peerIp = normalizeIp(source.socketAddress ?? '')
    const userAgent = header(source.headers, 'user-agent')?.slice(0, MAX_USER_AGENT)
    if (!this.isTrusted(peerIp)) return { ip: peerIp, userAgent, peerIp, forwarded: false }

    let ip = peerIp
    const hops = (header(source.headers, 'x-forwarded-for') ?? '').split(',').filter((hop) => hop.trim() !== '')
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = forwardedAddress(hops[i])
      if (hop === null) break
      ip = hop
      if (!this.isTrusted(hop)) break
    }
    const info: ClientInfo = { ip, userAgent, peerIp, forwarded: ip !== peerIp }
    if (trustForwardedInfo) {
      const named = forwardedAddress(header(source.headers, 'x-contember-client-ip') ?? '')
      if (named) Object.assign(info, { ip: named, forwarded: true })
      const namedAgent = header(source.headers, 'x-contember-client-user-agent')
      if (namedAgent) Object.assign(info, { userAgent: namedAgent.slice(0, MAX_USER_AGENT), forwarded: true })
    }
    return info
  }

  /** Whether the request carries headers that only a trusted key may use (worth a key lookup). */
  namesEndClient(source: ClientInfoSource): boolean {
    return this.isTrusted(normalizeIp(source.socketAddress ?? ''))
      && (source.headers['x-contember-client-ip'] !== undefined || source.headers['x-contember-client-user-agent'] !== undefined)
  }
}
