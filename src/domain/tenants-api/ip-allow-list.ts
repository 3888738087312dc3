/**
 * IP allow lists of addresses and CIDRs, IPv4 and IPv6. IPv4-mapped IPv6 peers
 * (`::ffff:127.0.0.1`, as a dual-stack socket reports them) are judged as IPv4.
 */
import { BlockList, isIP } from 'node:net'

export interface AllowList { allows(address: string | undefined): boolean, readonly empty: boolean }

export const LOOPBACK = ['127.0.0.0/8', '::1']

export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return mapped ? mapped[1] : address
}

export function createAllowList(entries: string[]): AllowList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address, prefix] = entry.split('/')
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(prefix), family)
  }
  return {
    empty: entries.length === 0,
    allows(address) {
      if (!address) return false
      const normalized = normalizeAddress(address)
      const family = isIP(normalized)
      if (family === 0) return false
      return list.check(normalized, family === 6 ? 'ipv6' : 'ipv4')
    },
  }
}
