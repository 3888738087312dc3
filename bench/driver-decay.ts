/**
 * Diagnosis (`npx tsx bench/driver-decay.ts`): P1 through our pool (pg via Drizzle), raw postgres.js
 * and raw pg, six rounds of 3 s each against one long-lived bound server. postgres.js 3.4.9 loses throughput
 * round after round (its pool Queue only resets when fully drained: under steady load `shift`
 * leaves holes and `remove` scans them with indexOf), pg stays level. Prints rps per round and RSS.
 */
import pg from 'pg'
import { openDatabase } from '../src/db/client.js'
import { migrate } from '../src/db/migrate.js'
import { createBenchDatabase, seedPersons, analyze } from './seed.js'
import { startChild } from './lib/ipc.js'
const database = await createBenchDatabase('postgres://postgres@127.0.0.1:5432/postgres')
const db = await openDatabase({ databaseUrl: database.url, dataDir: 'unused', maxConnections: 1 }); await migrate(db, database.url); await db.close()
const sql = new pg.Pool({ connectionString: database.url, max: 2 })
await seedPersons(sql, 1, 1000, 'x', 0); await analyze(sql)
const load = (await startChild('load.ts')).child
const bounds = await startChild<{ url: string }>('bounds-server.ts', { env: { DATABASE_URL: database.url } })
for (let round = 0; round < 6; round++) {
  const out: string[] = []
  for (const path of ['/p1', '/p1-raw', '/p1-pg']) {
    const r = await load.call<{ rps: number }>('load', { url: bounds.ready.url, plan: { kind: 'static', method: 'GET', path }, connections: 50, durationSec: 3, warmupSec: 0 })
    out.push(`${path} ${r.rps.toFixed(0)}`)
  }
  const rss = await bounds.child.call<number>('rssPeak')
  console.log(round, out.join('  '), 'rss', (rss / 2 ** 20).toFixed(0))
}
await bounds.child.stop(); await load.stop(); await sql.end(); await database.drop()
