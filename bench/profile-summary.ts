/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile=<phase>`): self time by function
 * and by package, so a missed target can be explained with numbers. Usage:
 *   npx tsx bench/profile-summary.ts bench/profiles/<file>.cpuprofile [top]
 */
import { readFileSync } from 'node:fs'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[] }

const [file, topArg] = process.argv.slice(2)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, b) => a + b, 0)

function area(url: string): string {
  if (!url) return '(native/idle)'
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1]
  if (url.startsWith('node:')) return 'node core'
  const s = /\/(src|bench)\/(.*)$/.exec(url)
  return s ? `${s[1]}/${s[2]}` : url
}

const byFunction = new Map<string, number>()
const byArea = new Map<string, number>()
for (const [id, us] of self) {
  const { callFrame } = byId.get(id)!
  const key = `${callFrame.functionName || '(anonymous)'} ${area(callFrame.url)}:${callFrame.lineNumber + 1}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  const a = area(callFrame.url)
  byArea.set(a, (byArea.get(a) ?? 0) + us)
}
const top = Number(topArg ?? 25)
const pct = (us: number) => `${(100 * us / total).toFixed(1).padStart(5)} %`
console.log(`total ${(total / 1e6).toFixed(2)} s sampled`)
console.log('\nby package / file:')
for (const [k, v] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`)
console.log('\nby function (self):')
for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`)
