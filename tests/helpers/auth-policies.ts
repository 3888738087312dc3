/** Auth policies for the enforcement tests: created and removed over GraphQL, and a clock the test moves. */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { afterEach } from 'node:test'
import { gql } from './http.js'
import { ROOT_TOKEN } from './server.js'

const CREATE = 'mutation($p: AuthPolicyInput!) { createAuthPolicy(policy: $p) { ok error { code developerMessage } result { id } } }'
const DELETE = 'mutation($id: String!) { deleteAuthPolicy(id: $id) { ok } }'

/** A role name no other test uses, so that a policy on it applies only to this test's persons. */
export const uniqueRole = (prefix = 'role') => `${prefix}_${randomBytes(4).toString('hex')}`

export async function createPolicy(url: string, policy: Record<string, unknown>): Promise<string> {
  const response = await gql(url, ROOT_TOKEN, CREATE, { p: policy })
  assert.equal(response.body.data?.createAuthPolicy?.ok, true, JSON.stringify(response.body))
  return response.body.data.createAuthPolicy.result.id
}

export async function deletePolicy(url: string, id: string): Promise<void> {
  assert.equal((await gql(url, ROOT_TOKEN, DELETE, { id })).body.data.deleteAuthPolicy.ok, true)
}

/** Policies created through `create` are deleted after the current test (or earlier with `remove`). */
export function trackedPolicies(url: () => string) {
  const ids: string[] = []
  afterEach(async () => {
    while (ids.length) await deletePolicy(url(), ids.pop()!)
  })
  return {
    async create(definition: Record<string, unknown>): Promise<string> {
      const id = await createPolicy(url(), definition)
      ids.push(id)
      return id
    },
    async remove(id: string): Promise<void> {
      ids.splice(ids.indexOf(id), 1)
      await deletePolicy(url(), id)
    },
  }
}

/** A clock running with real time plus an offset the test advances (pass `clock` to startTestServer). */
export function movableClock() {
  let offsetMs = 0
  return {
    clock: () => new Date(Date.now() + offsetMs),
    now: () => Date.now() + offsetMs,
    advance(ms: number) { offsetMs += ms },
  }
}

export const MINUTE = 60_000
