/**
 * The server under test, in its own process: exactly what main.ts starts (config from the
 * environment, migrations, bootstrap, the app), listening on a free loopback port. Reports its
 * resident set size to the bench.
 */
import { loadConfig } from '../src/config.js'
import { startRuntime } from '../src/server.js'
import { serveParent, rssSampler } from './lib/ipc.js'

const config = loadConfig(process.env)
const runtime = await startRuntime(config)
const address = await runtime.app.listen({ port: 0, host: '127.0.0.1' })
const rss = rssSampler()

serveParent({ url: address }, {
  rssReset: () => rss.reset(),
  rssPeak: () => rss.peak(),
}, () => runtime.close())
