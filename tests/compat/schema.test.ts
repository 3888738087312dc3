/**
 * Our /tenant schema against Contember's published 2.0.8 SDL: no breaking change, so every
 * operation a 2.0.8 client can send validates here and every field it reads still exists.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { buildSchema, findBreakingChanges } from 'graphql'

const read = (url: URL) => readFileSync(url, 'utf8')
const reference = buildSchema(read(new URL('../fixtures/contember-tenant-2.0.8.graphql', import.meta.url)))
const ours = buildSchema(read(new URL('../../src/graphql/schema/tenant.graphql', import.meta.url)))

test('src/graphql/schema/tenant.graphql has no breaking change against Contember Tenant API 2.0.8', () => {
  const breaking = findBreakingChanges(reference, ours).map((change) => `${change.type}: ${change.description}`)
  assert.deepEqual(breaking, [])
})

test('the comparison is not vacuous: removing a 2.0.8 field is reported as breaking', () => {
  const trimmed = buildSchema(read(new URL('../../src/graphql/schema/tenant.graphql', import.meta.url))
    .replace(/^\s*otpEnabled: Boolean!\s*$/m, ''))
  const breaking = findBreakingChanges(reference, trimmed).map((change) => change.description)
  assert.deepEqual(breaking, ['Person.otpEnabled was removed.'])
})
