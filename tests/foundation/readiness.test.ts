/**
 * /health/ready answers 503 while the database is unreachable and 200 again once it is back;
 * /health/live does not depend on the database. Embedded: a closed database (in both runs).
 * PostgreSQL: connections terminated and refused, and a server whose database port closes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { request, gql } from '../helpers/http.js'
import { createPostgresDatabase, ROOT_TOKEN, startTestServer } from '../helpers/server.js'
import { adminConnection, databaseName, durableDatabase } from './support.js'
import { call, restEnv } from '../rest/client.js'

async function ready(url: string) {
  return request(`${url}/health/ready`)
}

async function assertDown(url: string) {
  const response = await ready(url)
  assert.equal(response.status, 503)
  assert.deepEqual(response.body, { status: 'unavailable', database: 'down' })
  assert.equal((await request(`${url}/health/live`)).status, 200)
}

/** /tenant while the database is unreachable: 503 with Retry-After and a code, not an internal error. */
async function assertGraphqlUnavailable(url: string) {
  const response = await gql(url, ROOT_TOKEN, '{ me { id } }')
  assert.equal(response.status, 503, response.text)
  assert.equal(response.headers.get('retry-after'), '5')
  assert.deepEqual(response.body.errors.map((e: { extensions?: { code?: string } }) => e.extensions?.code), ['DATABASE_UNAVAILABLE'])
}

async function assertUp(url: string) {
  const response = await ready(url)
  assert.equal(response.status, 200, response.text)
  assert.deepEqual(response.body, { status: 'ok', database: 'up' })
}

test('embedded: a closed database makes readiness 503 while liveness stays 200', async () => {
  const database = await durableDatabase('embedded')
  const server = await database.start()
  try {
    await assertUp(server.url)
    await server.runtime.database.close()
    await assertDown(server.url)
    await assertGraphqlUnavailable(server.url)
  } finally {
    await server.runtime.close()
  }
})

/** A TCP relay in front of PostgreSQL that the test can close (refusing connections) and reopen. */
function databaseRelay(target: URL) {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  return {
    async open(port = 0): Promise<number> {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname)
        sockets.add(client).add(upstream)
        client.pipe(upstream).pipe(client)
        const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
        for (const socket of [client, upstream]) socket.on('error', drop).on('close', drop)
      })
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve))
      return (server.address() as AddressInfo).port
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server!.close(() => resolve()))
    },
  }
}

if (process.env.DATABASE_URL) {
  test('PostgreSQL: backends terminated and connections refused -> 503; allowed again -> 200', async () => {
    const created = await createPostgresDatabase()
    const name = databaseName(created.url)
    const admin = adminConnection()
    const server = await startTestServer({ env: { DATABASE_URL: created.url } })
    try {
      await assertUp(server.url)
      await admin.query(`alter database ${name} allow_connections false`)
      const terminated = await admin.query('select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = $1', [name])
      assert.ok(terminated.rows.length > 0, 'the server held connections to its database')
      await assertDown(server.url)

      await admin.query(`alter database ${name} allow_connections true`)
      await assertUp(server.url)
      const me = await gql(server.url, ROOT_TOKEN, '{ me { id } }')
      assert.equal(me.status, 200)
      assert.ok(me.body.data.me.id)
    } finally {
      await server.close()
      await admin.end()
      await created.drop()
    }
  })

  test('PostgreSQL: the database port closes -> 503; it opens again -> 200', async () => {
    const created = await createPostgresDatabase()
    const relay = databaseRelay(new URL(created.url))
    const port = await relay.open()
    const viaRelay = new URL(created.url)
    viaRelay.port = String(port)
    const server = await startTestServer({ env: restEnv({ DATABASE_URL: viaRelay.toString() }) })
    try {
      await assertUp(server.url)
      await relay.close()
      await assertDown(server.url)
      // A request that needs the database says so: 503 with Retry-After, not an internal error.
      const create = await call(server, 'POST', 'tenants', { body: { id: 'while-down', hostname: 'while-down.example.com', is_enabled: true } })
      assert.equal(create.status, 503, create.text)
      assert.equal(create.body.code, 'DATABASE_UNAVAILABLE')
      assert.equal(create.headers.get('retry-after'), '5')
      await assertGraphqlUnavailable(server.url)
      await relay.open(port)
      await assertUp(server.url)
      assert.equal((await gql(server.url, ROOT_TOKEN, '{ me { id } }')).status, 200)
      assert.equal((await call(server, 'POST', 'tenants', { body: { id: 'while-down', hostname: 'while-down.example.com', is_enabled: true } })).status, 201)
    } finally {
      await server.close()
      await relay.close()
      await created.drop()
    }
  })
}
