import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, loadConfig } from '../../src/config.js'

const KEY = 'b'.repeat(64)

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`)
    return error
  }
  assert.fail('expected the configuration to be rejected')
}

test('defaults: port 4000 on 127.0.0.1, embedded database in ./data', () => {
  const config = loadConfig({})
  assert.equal(config.port, 4000)
  assert.equal(config.host, '127.0.0.1')
  assert.equal(config.databaseUrl, undefined)
  assert.equal(config.dataDir, './data')
  assert.equal(config.logLevel, 'info')
  assert.equal(config.sessions.defaultExpirationMinutes, 30)
  assert.equal(config.passwords.argon2MemoryKib, 19456)
  assert.equal(config.passwords.argon2TimeCost, 2)
})

test('each bad value names its variable', () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ PORT: 'abc' }, 'PORT', /integer/],
    [{ PORT: '70000' }, 'PORT', /between/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', /postgres/],
    [{ DATABASE_URL: 'postgres://localhost/x' }, 'ENCRYPTION_KEY', /required/],
    [{ ENCRYPTION_KEY: 'short' }, 'ENCRYPTION_KEY', /64 hex/],
    [{ CONTEMBER_ROOT_TOKEN: 'abc-def' }, 'CONTEMBER_ROOT_TOKEN', /word characters/],
    [{ CONTEMBER_ROOT_EMAIL: 'nope' }, 'CONTEMBER_ROOT_EMAIL', /e-mail/],
    [{ CONTEMBER_ROOT_PASSWORD: 'short' }, 'CONTEMBER_ROOT_PASSWORD', /at least/],
    [{ TENANTS_API_KEY: 'too-short' }, 'TENANTS_API_KEY', /32/],
    [{ TENANTS_API_IP_ALLOW_LIST: '10.0.0.0/33' }, 'TENANTS_API_IP_ALLOW_LIST', /CIDR/],
    [{ CHEVERETO_TENANTS_API_IP_ALLOW_LIST: 'example.com' }, 'CHEVERETO_TENANTS_API_IP_ALLOW_LIST', /CIDR/],
    [{ TRUSTED_PROXIES: '1.2.3' }, 'TRUSTED_PROXIES', /CIDR/],
    [{ TENANTS_API_SIGNATURE_MODE: 'loose' }, 'TENANTS_API_SIGNATURE_MODE', /legacy or strict/],
    [{ TENANTS_API_REQUEST_SECRET: 'a,b,c' }, 'TENANTS_API_REQUEST_SECRET', /two/],
    [{ NODE_ENV: 'production' }, 'TENANTS_API_REQUEST_SECRET', /production/],
    [{ PUBLIC_SIGN_UP: 'maybe' }, 'PUBLIC_SIGN_UP', /true or false/],
    [{ TENANT_ENFORCED: '[1]' }, 'TENANT_ENFORCED', /JSON object/],
    [{ SMTP_URL: 'http://mail' }, 'SMTP_URL', /smtp/],
  ]
  for (const [env, variable, problem] of cases) {
    const error = errorOf(env)
    assert.equal(error.variable, variable, JSON.stringify(env))
    assert.match(error.message, new RegExp(`^${variable}: `))
    assert.match(error.message, problem)
  }
})

test('encryption key as 64 hex or base64 of 32 bytes', () => {
  assert.equal(loadConfig({ ENCRYPTION_KEY: KEY }).encryptionKey?.length, 32)
  const base64 = Buffer.alloc(32, 7).toString('base64')
  assert.deepEqual(loadConfig({ ENCRYPTION_KEY: base64 }).encryptionKey, Buffer.alloc(32, 7))
})

test('Chevereto names are read where ours are absent, ours win', () => {
  const config = loadConfig({
    CHEVERETO_TENANTS_API_REQUEST_SECRET: 'chv', CHEVERETO_HOSTNAME: 'root.example.com', CHEVERETO_SERVICE_PORT: '9000',
    CHEVERETO_PROXY_IP_ALLOW_LIST: '10.0.0.0/8,cloudflare',
  })
  assert.deepEqual(config.tenantsApi.requestSecrets, ['chv'])
  assert.equal(config.traefik.rootHostname, 'root.example.com')
  assert.equal(config.traefik.servicePort, 9000)
  assert.deepEqual(config.traefik.proxyIpAllowList, ['10.0.0.0/8', 'cloudflare'])
  assert.deepEqual(loadConfig({ TENANTS_API_REQUEST_SECRET: 'ours', CHEVERETO_TENANTS_API_REQUEST_SECRET: 'chv' }).tenantsApi.requestSecrets, ['ours'])
})

test('production with a request secret, or explicitly unsigned, starts', () => {
  assert.equal(loadConfig({ NODE_ENV: 'production', TENANTS_API_REQUEST_SECRET: 's' }).nodeEnv, 'production')
  assert.equal(loadConfig({ NODE_ENV: 'production', TENANTS_API_ALLOW_UNSIGNED: 'true' }).tenantsApi.allowUnsigned, true)
})
