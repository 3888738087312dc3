/** Process entry: config -> database -> migrate -> app -> listen; graceful stop on signals. */
import { ConfigError, loadConfig, type Config } from './config.js'
import { startRuntime, type Runtime } from './server.js'

const SHUTDOWN_TIMEOUT_MS = 10_000

function firstStartMessage(runtime: Runtime, address: string): string[] {
  const lines = [`tenant-gateway listening on ${address} (${runtime.database.kind === 'embedded' ? `embedded database in ${runtime.ctx.config.dataDir}` : 'PostgreSQL'})`]
  lines.push(`  GraphQL (Contember Tenant API): ${address}/tenant`, `  REST (Chevereto Tenants API):   ${address}/_/api/4`)
  const { loginToken, rootToken } = runtime.bootstrap.generated
  if (loginToken || rootToken) {
    lines.push('', 'First start: these tokens were generated and are shown only this once (only their SHA-256 is stored):')
    if (loginToken) lines.push(`  login token (bearer for signIn, password reset and other public auth flows): ${loginToken}`)
    if (rootToken) lines.push(`  root token (super_admin: creates projects, persons and API keys):         ${rootToken}`)
    lines.push('', 'Try it:', `  curl -s ${address}/tenant -H 'Authorization: Bearer ${rootToken ?? '<root token>'}' -H 'Content-Type: application/json' -d '{"query":"{ me { id roles } }"}'`)
  } else {
    lines.push('  Tokens: use CONTEMBER_ROOT_TOKEN / CONTEMBER_LOGIN_TOKEN, or the ones printed on the first start.')
  }
  if (runtime.generatedKeyFile) lines.push(`  Generated an encryption key in ${runtime.generatedKeyFile} (keep it with the data).`)
  return lines
}

async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tenant-gateway: invalid configuration: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const runtime = await startRuntime(config)
  installShutdown(runtime)
  const address = await runtime.app.listen({ port: config.port, host: config.host })
  process.stdout.write(firstStartMessage(runtime, address).join('\n') + '\n')
  if (runtime.ctx.config.tenantsApi.requestSecrets.length === 0) {
    runtime.app.log.warn('TENANTS_API_REQUEST_SECRET is not set: REST request signing is off')
  }
}

/** Installed before listening, so that a signal at any moment after start is a graceful stop. */
function installShutdown(runtime: Runtime): void {
  let stopping = false
  const stop = (signal: string) => {
    // Ctrl-C under `npm start` can reach us more than once (the terminal's process group, then
    // npm relaying it): a repeated signal must not cut the graceful stop short.
    if (stopping) return
    stopping = true
    runtime.app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    const timer = setTimeout(() => {
      runtime.app.log.error('shutdown timed out; exiting')
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS)
    timer.unref()
    runtime.close().then(() => {
      runtime.app.log.info('stopped: in-flight requests finished, database closed')
      process.exit(0)
    }, (error) => {
      runtime.app.log.error({ err: error }, 'error during shutdown')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((error) => {
  process.stderr.write(`tenant-gateway: failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
