/**
 * A bad value stops the real process at start: non-zero exit, exactly one line on stderr that
 * names the variable, nothing listening. (tests/unit/config.test.ts covers every rule in-process.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { childEnv, lines, spawnService, tempDir, removeDir } from './support.js'

const cases: { env: Record<string, string>, variable: string, problem: RegExp }[] = [
  { env: { PORT: 'abc' }, variable: 'PORT', problem: /must be an integer, got "abc"/ },
  { env: { PORT: '70000' }, variable: 'PORT', problem: /between 0 and 65535/ },
  { env: { LOG_LEVEL: 'loud' }, variable: 'LOG_LEVEL', problem: /must be one of/ },
  { env: { ENCRYPTION_KEY: 'not-a-key' }, variable: 'ENCRYPTION_KEY', problem: /64 hex characters or the base64 of 32 bytes/ },
  { env: { CONTEMBER_ROOT_TOKEN: 'short' }, variable: 'CONTEMBER_ROOT_TOKEN', problem: /at least 20/ },
  // The PostgreSQL start path refuses to run without a key (an embedded start would generate one).
  { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' }, variable: 'ENCRYPTION_KEY', problem: /required with DATABASE_URL/ },
]

for (const { env, variable, problem } of cases) {
  test(`npx tsx src/main.ts with ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}: exits non-zero naming ${variable}`, async () => {
    const dataDir = tempDir('config')
    try {
      const service = spawnService(['npx', 'tsx', 'src/main.ts'], childEnv({ DATA_DIR: dataDir, ...env }))
      const code = await service.exited
      assert.notEqual(code, 0)
      const errorLines = lines(service.stderr())
      assert.equal(errorLines.length, 1, `expected one stderr line, got:\n${service.stderr()}`)
      assert.match(errorLines[0], new RegExp(`^tenant-gateway: invalid configuration: ${variable}: `))
      assert.match(errorLines[0], problem)
      assert.doesNotMatch(service.stdout(), /listening/)
    } finally {
      removeDir(dataDir)
    }
  })
}
