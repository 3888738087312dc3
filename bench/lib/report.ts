/** The bench's one table (stdout) and bench/results.json. */
import { cpus, totalmem } from 'node:os'
import { execFileSync } from 'node:child_process'

export interface Row {
  id: string
  label: string
  /** null when the path could not be measured; `note` says why. */
  rps: number | null
  p50: number | null
  p99: number | null
  /** What the ratio is taken against, e.g. "P1" or "me small". */
  bound?: string
  ratio?: number | null
  target?: string
  met?: boolean | null
  note?: string
  extra?: Record<string, unknown>
}

const fmt = (value: number | null | undefined, digits = 0) => value === null || value === undefined ? '—' : value.toFixed(digits)

export function table(rows: Row[]): string {
  const header = ['path', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'target', 'met', 'note']
  const lines = rows.map((r) => [
    r.label, fmt(r.rps), fmt(r.p50, 1), fmt(r.p99, 1),
    r.ratio === undefined || r.ratio === null ? '' : `${r.ratio.toFixed(2)} × ${r.bound}`,
    r.target ?? '', r.met === undefined || r.met === null ? '' : r.met ? 'yes' : 'NO', r.note ?? '',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(line)].join('\n')
}

export function machine(): Record<string, unknown> {
  let postgres = 'unknown'
  try {
    postgres = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim()
  } catch { /* psql absent: the server version is still in results via the bench database */ }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
  }
}
