/**
 * What the suite measures, in SQL and in figures: a digest of every table (to prove a rejected
 * request changed nothing), the cross-row invariants that foreign keys alone do not enforce (to
 * prove no fault left half a write), and the figures each file appends for the runner's table.
 */
import { appendFileSync } from 'node:fs'
import pg from 'pg'

/** Columns a refused request may legitimately touch: token use bookkeeping, not data. */
const VOLATILE: Record<string, string[]> = {
  api_key: ['last_used_at', 'expires_at', 'last_ip', 'last_user_agent'],
  // A wrong one-time code counts an attempt (three tries, as Contember): bookkeeping of a refusal.
  person_token: ['otp_attempts'],
}
/** Rows a refused request may legitimately add: failure audit lines and limiter events. */
const VOLATILE_ROWS: Record<string, string> = {
  audit_event: 'where success',
  rate_limit_event: 'where false',
  used_signature: 'where false',
}

export type Sql = pg.Pool

/** A small pool on one database of the private cluster. */
export function connect(url: string): Sql {
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 })
  // The fault tests stop this server under the pool: an idle connection's loss is expected.
  pool.on('error', () => {})
  return pool
}

/** The rows of one query, values as $1, $2, ... parameters. */
export async function rows<T = Record<string, any>>(sql: Sql, text: string, values: unknown[] = []): Promise<T[]> {
  return (await sql.query(text, values)).rows
}

/** table -> md5 of its rows (volatile columns left out), ordered by their text form. */
export async function digest(sql: Sql): Promise<Record<string, string>> {
  const columns = await rows<{ table_name: string, column_name: string }>(sql, `
    select table_name, column_name from information_schema.columns
    where table_schema = 'public' order by table_name, ordinal_position`)
  const byTable = new Map<string, string[]>()
  for (const { table_name: table, column_name: column } of columns) {
    if (VOLATILE[table]?.includes(column)) continue
    byTable.set(table, [...(byTable.get(table) ?? []), column])
  }
  const result: Record<string, string> = {}
  for (const [table, cols] of byTable) {
    const list = cols.map((c) => `"${c}"`).join(', ')
    const [row] = await rows(sql, `select count(*)::int as n, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as h
      from (select ${list} from "${table}" ${VOLATILE_ROWS[table] ?? ''}) t`)
    result[table] = `${row.n}:${row.h}`
  }
  return result
}

export function digestDiff(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after }).filter((table) => before[table] !== after[table])
}

/**
 * Each query counts rows that can only exist if a multi-step write was cut in half. They hold
 * whatever the faults were: every statement of these writes runs in one transaction.
 */
export const INVARIANTS: Record<string, string> = {
  'identity with role person but no person row': `
    select count(*) from identity i where i.roles ? 'person' and not exists (select 1 from person p where p.identity_id = i.id)
      and not exists (select 1 from api_key k where k.identity_id = i.id)`,
  'tenant without a tenant_create audit event': `
    select count(*) from tenant t where not exists (select 1 from audit_event a where a.type = 'tenant_create' and a.tenant_id = t.id)`,
  'tenant_create audit event whose tenant never existed': `
    select count(*) from audit_event a where a.type = 'tenant_create' and a.success
      and not exists (select 1 from tenant t where t.id = a.tenant_id)
      and not exists (select 1 from audit_event d where d.tenant_id = a.tenant_id and d.type = 'tenant_purge')`,
  'tenant whose project slug differs': `
    select count(*) from tenant t join project p on p.id = t.project_id where p.slug <> t.id`,
  'tenant username without a membership': `
    select count(*) from project_username u join person p on p.id = u.person_id
      where not exists (select 1 from project_membership m where m.project_id = u.project_id and m.identity_id = p.identity_id)`,
  'tenant_install audit event without its admin': `
    select count(*) from audit_event a where a.type = 'tenant_install' and a.success
      and exists (select 1 from tenant t where t.id = a.tenant_id)
      and not exists (select 1 from project_username u where u.person_id = a.target_person_id and u.project_id = a.project_id)`,
  'tenants API key without its hash': `select count(*) from tenants_api_key where hash = ''`,
  'membership of a person-less identity with role person': `
    select count(*) from project_membership m join identity i on i.id = m.identity_id
      where i.roles ? 'person' and not exists (select 1 from person p where p.identity_id = i.id)`,
}

/** Runs every invariant; returns the violating counts (all zero when consistent). */
export async function inconsistencies(sql: Sql): Promise<Record<string, number>> {
  const found: Record<string, number> = {}
  for (const [name, query] of Object.entries(INVARIANTS)) {
    const [row] = await rows(sql, query)
    found[name] = Number(row.count)
  }
  return found
}

export const totalInconsistent = (found: Record<string, number>) => Object.values(found).reduce((a, b) => a + b, 0)

export interface Figures {
  part: string
  inputs?: number
  faultsInjected?: number
  faultsSurvived?: number
  requestsLost?: number
  rowsInconsistent?: number
  securityCases?: number
  securityPassed?: number
  notes?: string[]
}

/** Appends one line of figures to the file the runner reads (RELIABILITY_FIGURES). */
export function recordFigures(figures: Figures): void {
  const file = process.env.RELIABILITY_FIGURES
  const line = JSON.stringify(figures)
  if (file) appendFileSync(file, line + '\n')
  process.stdout.write(`# figures ${line}\n`)
}

/** A security case is one test: counts it, and counts it passed only if `body` did not throw. */
export function securityCounter(part: string) {
  let cases = 0
  let passed = 0
  return {
    async run(body: () => Promise<void> | void): Promise<void> {
      cases++
      await body()
      passed++
    },
    record(extra: Partial<Figures> = {}) {
      recordFigures({ part, securityCases: cases, securityPassed: passed, ...extra })
    },
  }
}
