/**
 * The routes this surface registered, recorded as Fastify announces them, so that a test can
 * prove they are exactly the operations of openapi.yaml. Keyed by the HTTP server because
 * every encapsulated context of one app shares it.
 */
import type { Server } from 'node:http'

export interface RestRoute { method: string, url: string }

const tables = new WeakMap<object, RestRoute[]>()

export function recordRoute(server: Server, route: RestRoute): void {
  let table = tables.get(server)
  if (!table) tables.set(server, table = [])
  table.push(route)
}

export function restRouteTable(server: Server): RestRoute[] {
  return [...(tables.get(server) ?? [])]
}
