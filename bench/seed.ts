/**
 * Bulk data for the bench, written straight into PostgreSQL with generate_series (seeding a
 * million persons through the API would take hours). Ids and tokens are deterministic so the
 * load generator can compute them: bench persons, their permanent and session keys, projects
 * with tenants, memberships. Only SHA-256 hashes of tokens are stored, as the service does.
 */
import { createHash, randomBytes } from 'node:crypto'
import pg from 'pg'

export type Sql = pg.Pool

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

/** The bearer token of bench person i: permanent ('p') or session ('s'); 40 hex as Contember's. */
export const benchToken = (kind: 'p' | 's', i: number) => sha256(`bench-${kind}-${i}`).slice(0, 40)
export const benchEmail = (i: number) => `bench${i}@example.com`
export const benchTenantId = (i: number) => `t${i}`
export const BENCH_PASSWORD = 'bench-password-1'

const tokenSql = (kind: string) => `substr(encode(sha256(('bench-${kind}-' || i)::bytea), 'hex'), 1, 40)`
const hashSql = (kind: string) => `encode(sha256(${tokenSql(kind)}::bytea), 'hex')`
const uuidSql = (prefix: string) => `('${prefix}-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid`

async function adminQuery(url: string, text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query(text)
  } finally {
    await admin.end()
  }
}

/** A fresh database on the server; dropped by the returned function. */
export async function createBenchDatabase(adminUrl: string): Promise<{ url: string, name: string, drop(): Promise<void> }> {
  const name = `tg_bench_${randomBytes(5).toString('hex')}`
  await adminQuery(adminUrl, `create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(), name,
    async drop() {
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`)
    },
  }
}

/**
 * Persons from..to, each with an identity (role person) and a permanent key; persons up to
 * `sessionsUpTo` also get a session key that expires in 29 minutes (so its first use prolongs it).
 */
export async function seedPersons(sql: Sql, from: number, to: number, passwordHash: string, sessionsUpTo = 0): Promise<void> {
  const range = `generate_series(${from}, ${to}) as i`
  await sql.query(`insert into identity (id, roles, description) select ${uuidSql('00000000')}, '["person"]'::jsonb, null from ${range}`)
  await sql.query(`insert into person (id, identity_id, email, password_hash, name)
    select ${uuidSql('10000000')}, ${uuidSql('00000000')}, 'bench' || i || '@example.com', $1, 'Bench ' || i from ${range}`, [passwordHash])
  await sql.query(`insert into api_key (token_hash, type, identity_id) select ${hashSql('p')}, 'permanent', ${uuidSql('00000000')} from ${range}`)
  const sessionsTo = Math.min(to, sessionsUpTo)
  if (sessionsTo >= from) {
    await sql.query(`insert into api_key (token_hash, type, identity_id, expires_at)
      select ${hashSql('s')}, 'session', ${uuidSql('00000000')}, now() + interval '29 minutes' from generate_series(${from}, ${sessionsTo}) as i`)
  }
}

/** Tenants from..to with their projects (slug = tenant id), enabled, no plan. */
export async function seedTenants(sql: Sql, from: number, to: number): Promise<void> {
  const range = `generate_series(${from}, ${to}) as i`
  await sql.query(`insert into project (id, slug, name) select ${uuidSql('20000000')}, 't' || i, 'Tenant ' || i from ${range}`)
  await sql.query(`insert into tenant (id, project_id, hostname, is_enabled, limits)
    select 't' || i, ${uuidSql('20000000')}, 't' || i || '.bench.example.com', true, '{}'::jsonb from ${range}`)
}

/** Person i (1..persons) is an admin of `perPerson` projects among the first `projects`. */
export async function seedMemberships(sql: Sql, persons: number, projects: number, perPerson: number): Promise<void> {
  await sql.query(`insert into project_membership (project_id, identity_id, role)
    select ('20000000-0000-4000-8000-' || lpad(to_hex(((i + k) % ${projects}) + 1), 12, '0'))::uuid, ${uuidSql('00000000')}, 'admin'
    from generate_series(1, ${persons}) as i, generate_series(0, ${perPerson - 1}) as k`)
}

export async function analyze(sql: Sql): Promise<void> {
  await sql.query('analyze')
}
