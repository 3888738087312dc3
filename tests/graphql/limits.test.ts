/**
 * How much one GraphQL request may ask for (src/graphql/limits.ts): tokens, depth, fields with
 * aliases and fragments expanded, root fields. Each refusal is a 400 validation error naming the
 * limit, with nothing executed; every operation the Contember client sends stays far below.
 * Batches and documents sent as JSON ASTs are not GraphQL requests.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { getIntrospectionQuery } from 'graphql'
import { gql, request, type HttpResponse } from '../helpers/http.js'
import { LOGIN_TOKEN, ROOT_TOKEN, startTestServer, type TestServer } from '../helpers/server.js'
import { OPERATIONS } from '../compat/operations.js'

let server: TestServer
before(async () => { server = await startTestServer() })
after(async () => { await server?.close() })

const aliases = (count: number, selection = 'me { id }') => `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${selection}`).join(' ')} }`

function assertLimit(response: HttpResponse, message: RegExp) {
  assert.equal(response.status, 400, response.text.slice(0, 300))
  assert.equal(response.body.data, undefined, 'nothing executed')
  assert.ok(response.body.errors.some((e: { message: string }) => message.test(e.message)), response.text.slice(0, 300))
}

async function projectSlugs(): Promise<string[]> {
  const response = await gql(server.url, ROOT_TOKEN, '{ projects { slug } }')
  return response.body.data.projects.map((p: { slug: string }) => p.slug)
}

test('fields: me with 299 aliased ids (300 fields) runs; with 300 (301 fields) is refused naming the limit', async () => {
  const me = (ids: number) => `{ me { ${Array.from({ length: ids }, (_, i) => `i${i}: id`).join(' ')} } }`
  const fits = await gql(server.url, ROOT_TOKEN, me(299))
  assert.equal(fits.status, 200, fits.text.slice(0, 200))
  assert.equal(Object.keys(fits.body.data.me).length, 299)
  assertLimit(await gql(server.url, ROOT_TOKEN, me(300)),
    /^The anonymous query selects 301 fields, more than the limit of 300 \(every alias and every use of a fragment counts\)\.$/)
})

test('fields: a fragment counts at every use, so a nested fragment bomb is refused, and cheaply', async () => {
  // Each Fn spreads F(n-1) twice: F16 stands for 2^17 fields in 17 one-line definitions.
  const fragments = Array.from({ length: 16 }, (_, i) => `fragment F${i + 1} on Identity { ...F${i} ...F${i} }`)
  const bomb = ['query Bomb { me { ...F16 } }', 'fragment F0 on Identity { id roles }', ...fragments].join('\n')
  const started = Date.now()
  const response = await gql(server.url, ROOT_TOKEN, bomb)
  assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`)
  assertLimit(response, /^Operation "Bomb" selects 131073 fields, more than the limit of 300/)

  // The same doubling at the root, 40 levels deep: counting root fields and depth must not expand it either.
  const rootFragments = Array.from({ length: 40 }, (_, i) => `fragment R${i + 1} on Query { ...R${i} ...R${i} }`)
  const rootBomb = ['query RootBomb { ...R40 }', 'fragment R0 on Query { me { id } }', ...rootFragments].join('\n')
  const rootStarted = Date.now()
  const rootResponse = await gql(server.url, ROOT_TOKEN, rootBomb)
  assert.ok(Date.now() - rootStarted < 2000, `answered in ${Date.now() - rootStarted} ms`)
  assertLimit(rootResponse, /^Operation "RootBomb" has 1099511627776 root fields, more than the limit of 20\.$/)

  // One fragment of 10 fields spread under 31 aliases: 31 + 310 fields.
  const spread = `query Spread { ${Array.from({ length: 31 }, (_, i) => `m${i}: me { ...Ten }`).join(' ')} }
    fragment Ten on Identity { id roles description i1: id i2: id i3: id i4: id i5: id i6: id i7: id }`
  assertLimit(await gql(server.url, ROOT_TOKEN, spread), /^Operation "Spread" selects 341 fields, more than the limit of 300/)
})

test('root fields: 20 run; 21 are refused, and no mutation of a refused document runs', async () => {
  const fits = await gql(server.url, ROOT_TOKEN, aliases(20))
  assert.equal(fits.status, 200, fits.text.slice(0, 200))
  assertLimit(await gql(server.url, ROOT_TOKEN, aliases(21)), /^The anonymous query has 21 root fields, more than the limit of 20\.$/)
  const mutations = Array.from({ length: 21 }, (_, i) => `p${i}: createProject(projectSlug: "bulk-${i}") { ok }`).join(' ')
  assertLimit(await gql(server.url, ROOT_TOKEN, `mutation Bulk { ${mutations} }`), /^Operation "Bulk" has 21 root fields, more than the limit of 20\.$/)
  assert.deepEqual((await projectSlugs()).filter((slug) => slug.startsWith('bulk-')), [])
})

test('tokens: 5000 aliases stop the parser at 5000 tokens, quickly, nothing executed', async () => {
  const started = Date.now()
  const response = await gql(server.url, ROOT_TOKEN, aliases(5000))
  assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`)
  assertLimit(response, /^Syntax Error: Document contains more that 5000 tokens\. Parsing aborted\.$/)
})

test('depth: 12 levels run, 13 are refused naming the limit', async () => {
  // me is level 1, __typename the last; between them Identity -> projects -> project -> members -> identity -> ...
  const nest = (depth: number) => {
    const path = ['projects', 'project', 'members', 'identity']
    const inner = Array.from({ length: depth - 2 }, (_, i) => path[i % path.length])
    return `{ me { ${inner.map((field) => `${field} { `).join('')}__typename${' }'.repeat(inner.length)} } }`
  }
  const fits = await gql(server.url, ROOT_TOKEN, nest(12))
  assert.equal(fits.status, 200, fits.text.slice(0, 300))
  assertLimit(await gql(server.url, ROOT_TOKEN, nest(13)), /query depth \(13\) exceeds the query depth limit of 12/)
})

test('depth: the standard introspection query (GraphiQL, code generators) runs; introspection deeper than 30 is refused', async () => {
  const standard = await gql(server.url, ROOT_TOKEN, getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }))
  assert.equal(standard.status, 200, standard.text.slice(0, 300))
  assert.ok(standard.body.data.__schema.types.some((t: { name: string }) => t.name === 'Identity'))
  const ofTypes = (levels: number) => `{ __type(name: "Identity") { ${'ofType { '.repeat(levels)}name${' }'.repeat(levels)} } }`
  assert.equal((await gql(server.url, ROOT_TOKEN, ofTypes(28))).status, 200)
  assertLimit(await gql(server.url, ROOT_TOKEN, ofTypes(29)), /introspection depth \(31\) exceeds the introspection depth limit of 30/)
  // The introspection allowance is not a way around the data limit in the same operation.
  const both = `{ __schema { queryType { name } } me { projects { project { members { identity { projects { project { members { identity { projects { project { members { __typename } } } } } } } } } } } } }`
  assertLimit(await gql(server.url, ROOT_TOKEN, both), /query depth \(13\) exceeds the query depth limit of 12/)
})

test('batches: a JSON array body is no GraphQL request (as Contember answers it), nothing executed', async () => {
  const batch = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ query: `mutation { createProject(projectSlug: "batch-${i}") { ok } }` })))
  const response = await request(`${server.url}/tenant`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ROOT_TOKEN}` }, body: batch })
  assert.equal(response.status, 400)
  assert.deepEqual(response.body, { errors: [{ message: 'Missing request query' }] })
  assert.deepEqual((await projectSlugs()).filter((slug) => slug.startsWith('batch-')), [])
})

test('a query that is JSON (an AST, a string, null) is a syntax error, never executed or a 500', async () => {
  const ast = JSON.stringify({
    kind: 'Document',
    definitions: [{ kind: 'OperationDefinition', operation: 'mutation', selectionSet: { kind: 'SelectionSet', selections: [{
      kind: 'Field', name: { kind: 'Name', value: 'createProject' },
      arguments: [{ kind: 'Argument', name: { kind: 'Name', value: 'projectSlug' }, value: { kind: 'StringValue', value: 'from-ast' } }],
      selectionSet: { kind: 'SelectionSet', selections: [{ kind: 'Field', name: { kind: 'Name', value: 'ok' } }] },
    }] } }],
  })
  for (const query of [ast, ' {"kind":"Document"}', '{}', '[]', '"me"', '12', 'null', 'true']) {
    const response = await gql(server.url, ROOT_TOKEN, query)
    assert.equal(response.status, 400, `${query.slice(0, 40)}: ${response.text}`)
    assert.match(response.body.errors[0].message, /^Syntax Error: /, query.slice(0, 40))
    assert.equal(response.body.data, undefined)
  }
  assert.deepEqual((await projectSlugs()).filter((slug) => slug === 'from-ast'), [])
})

test('every operation of the Contember client is within every limit', async () => {
  for (const [name, query] of Object.entries(OPERATIONS)) {
    // Without variables most operations stop at variable coercion, which runs after every limit.
    const response = await gql(server.url, LOGIN_TOKEN, query)
    const messages = (response.body?.errors ?? []).map((e: { message: string }) => e.message).join(' | ')
    assert.doesNotMatch(messages, /limit|tokens|Syntax Error/, `${name}: ${messages}`)
    assert.ok(response.status === 200 || /Variable "\$\w+" of required type/.test(messages) || /not allowed|Forbidden/i.test(messages), `${name}: ${response.status} ${messages}`)
  }
})
