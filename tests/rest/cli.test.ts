/**
 * The CLI against a real database: api-key:create prints a key once, `serve` starts the server
 * on the same database, and the key works over HTTP; tenant and plan commands round-trip.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { request } from '../helpers/http.js'
import { createPostgresDatabase, onPostgres, TEST_ENCRYPTION_KEY } from '../helpers/server.js'
import { hmacHex, KEY_SECRET, PREFIX, REQUEST_SECRET } from './client.js'

const exec = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname
let env: NodeJS.ProcessEnv
let cleanup: () => Promise<void>
let serving: ChildProcess | undefined

before(async () => {
  env = {
    PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', LOG_LEVEL: 'silent', ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    TENANTS_API_KEY_SECRET: KEY_SECRET, TENANTS_API_REQUEST_SECRET: REQUEST_SECRET, ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1',
    HOST: '127.0.0.1', PORT: '0',
  }
  if (onPostgres) {
    const database = await createPostgresDatabase()
    env.DATABASE_URL = database.url
    cleanup = database.drop
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'tg-cli-'))
    env.DATA_DIR = dir
    cleanup = async () => rmSync(dir, { recursive: true, force: true })
  }
})

after(async () => {
  if (serving && serving.exitCode === null) {
    const exited = new Promise((resolve) => serving!.once('exit', resolve))
    serving.kill('SIGTERM')
    await exited
  }
  await cleanup()
})

const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, env })

test('--help lists the commands', async () => {
  const { stdout } = await cli('--help')
  for (const command of ['serve', 'migrate', 'api-key:create', 'api-key:list', 'api-key:delete', 'tenant create', 'plan edit']) assert.ok(stdout.includes(command), command)
  await assert.rejects(cli('no-such-command'), (error: { code: number, stderr: string }) => error.code === 2 && /unknown command/.test(error.stderr))
})

test('migrate, plan and tenant commands', async () => {
  assert.match((await cli('migrate')).stdout, /migrations applied/)
  const plan = JSON.parse((await cli('plan', 'create', '--id', 'basic_plan', '--limits', '{"CHEVERETO_MAX_USERS":"2"}')).stdout)
  assert.deepEqual(plan.limits, { CHEVERETO_MAX_USERS: '2' })
  const tenant = JSON.parse((await cli('create', '--id', 'clitenant', '--hostname', 'cli.example.com', '--is_enabled', '1', '--plan_id', 'basic_plan', '--env', '{"A":"b"}')).stdout)
  assert.deepEqual([tenant.id, tenant.is_enabled, tenant.limits, tenant.env], ['clitenant', true, { CHEVERETO_MAX_USERS: '2' }, { A: 'b' }])
  const edited = JSON.parse((await cli('tenant', 'edit', '--id', 'clitenant', '--env', 'null', '--is_enabled', '0')).stdout)
  assert.deepEqual([edited.env, edited.is_enabled], [{}, false])
  assert.equal(JSON.parse((await cli('tenant', 'list')).stdout).length, 1)
  assert.deepEqual(JSON.parse((await cli('plan:list')).stdout).map((p: { id: string }) => p.id), ['basic_plan'])
  await assert.rejects(cli('tenant', 'get', '--id', 'missing'), (error: { code: number, stderr: string }) => error.code === 1 && /TENANT_NOT_FOUND/.test(error.stderr))
  await assert.rejects(cli('tenant', 'create', '--id', 'bad@id', '--hostname', 'x.example.com'), /INVALID_ID/)
})

test('api-key:create prints a key once; `serve` accepts it over HTTP; a deleted key is refused', async () => {
  const created = await cli('api-key:create', '--name', 'provisioner', '--expires', '2099-01-01T00:00:00Z')
  const key = created.stdout.trim()
  assert.match(key, /^chv_1_[a-f0-9]{64}_[a-f0-9]{64}$/)
  assert.equal(hmacHex(KEY_SECRET, key.split('_').slice(1, 3).join('_')), key.split('_')[3])
  const listed = JSON.parse((await cli('api-key:list')).stdout)
  assert.deepEqual(listed.map((k: { id: number, name: string, expires_at: string }) => [k.id, k.name, k.expires_at]), [[1, 'provisioner', '2099-01-01T00:00:00.000Z']])
  assert.ok(!JSON.stringify(listed).includes(key.split('_')[2]), 'the key is never listed')
  await assert.rejects(cli('api-key:create', '--name', 'provisioner'), /API_KEY_NAME_EXISTS/)
  // An embedded database is opened by one process at a time: revoke before serving.
  const revoked = (await cli('api-key:create', '--name', 'revoked')).stdout.trim()
  assert.deepEqual(JSON.parse((await cli('api-key:delete', '--name', 'revoked')).stdout), { deleted: 1 })

  serving = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const url = await new Promise<string>((resolve, reject) => {
    let output = ''
    serving!.stdout!.on('data', (chunk) => {
      output += String(chunk)
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output)
      if (match) resolve(match[1])
    })
    serving!.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)))
  })
  const verify = (apiKey: string) => request(`${url}${PREFIX}/auth/verify`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'x-signature': hmacHex(REQUEST_SECRET, '') },
  })
  assert.equal((await verify(key)).status, 200)
  const tenants = await request(`${url}${PREFIX}/tenants`, { headers: { 'x-api-key': key, 'x-signature': hmacHex(REQUEST_SECRET, '') } })
  assert.deepEqual(tenants.body.map((t: { id: string }) => t.id), ['clitenant'])
  assert.equal((await verify(revoked)).status, 401)
})
