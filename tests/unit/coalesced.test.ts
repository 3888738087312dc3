/** Coalesced: alone while slots are free, together beyond them, results and failures per batch. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Coalesced } from '../../src/db/coalesced.js'

function controlled() {
  const batches: { keys: number[], resolve(values: string[]): void, reject(error: Error): void }[] = []
  const coalesced = new Coalesced<number, string>({
    run: (keys) => new Promise((resolve, reject) => batches.push({ keys, resolve, reject })),
    maxInFlight: 2,
    maxBatch: 3,
  })
  return { coalesced, batches }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

test('calls go alone while slots are free, then wait and go together, each answered with its own result', async () => {
  const { coalesced, batches } = controlled()
  const calls = [1, 2, 3, 4, 5, 6].map((key) => coalesced.call(key))
  await tick()
  assert.deepEqual(batches.map((b) => b.keys), [[1], [2]], 'two slots: two calls at once, the rest wait')
  batches[0].resolve(['one'])
  await tick()
  assert.deepEqual(batches.map((b) => b.keys), [[1], [2], [3, 4, 5]], 'a freed slot takes the waiting calls, up to maxBatch')
  batches[1].resolve(['two'])
  await tick()
  assert.deepEqual(batches[3].keys, [6])
  batches[2].resolve(['three', 'four', 'five'])
  batches[3].resolve(['six'])
  assert.deepEqual(await Promise.all(calls), ['one', 'two', 'three', 'four', 'five', 'six'])
})

test('a failed batch rejects its own calls only; the next calls still run', async () => {
  const { coalesced, batches } = controlled()
  const calls = [1, 2, 3, 4].map((key) => coalesced.call(key).then((value) => ({ value }), (error: Error) => ({ error: error.message })))
  await tick()
  batches[0].reject(new Error('connection lost'))
  await tick()
  assert.deepEqual(batches[2].keys, [3, 4])
  batches[1].resolve(['two'])
  batches[2].resolve(['three', 'four'])
  assert.deepEqual(await Promise.all(calls), [{ error: 'connection lost' }, { value: 'two' }, { value: 'three' }, { value: 'four' }])
  const later = coalesced.call(5)
  await tick()
  batches[3].resolve(['five'])
  assert.equal(await later, 'five')
})

test('a run that throws instead of rejecting fails its calls, not the caller of call()', async () => {
  const coalesced = new Coalesced<number, number>({ run: () => { throw new Error('bad statement') }, maxInFlight: 1, maxBatch: 10 })
  await assert.rejects(coalesced.call(1), /bad statement/)
  await assert.rejects(coalesced.call(2), /bad statement/)
})
