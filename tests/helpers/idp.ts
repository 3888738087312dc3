/** The GraphQL operations and the call helper shared by the identity-provider tests (oidc, facebook, apple). */
import assert from 'node:assert/strict'
import { gql } from './http.js'
import { LOGIN_TOKEN } from './server.js'

export const INIT_SIGN_IN_IDP = `mutation($identityProvider: String!, $data: Json) {
  mutation: initSignInIDP(identityProvider: $identityProvider, data: $data) {
    ok error { code developerMessage } result { authUrl sessionData }
  }
}`
export const SIGN_IN_IDP = `mutation($identityProvider: String!, $data: Json, $expiration: Int) {
  mutation: signInIDP(identityProvider: $identityProvider, data: $data, expiration: $expiration) {
    ok error { code developerMessage } result { token idpResponse person { id email name } }
  }
}`
export const ADD_IDP = `mutation($identityProvider: String!, $type: String!, $configuration: Json!, $options: IDPOptions) {
  mutation: addIDP(identityProvider: $identityProvider, type: $type, configuration: $configuration, options: $options) { ok error { code developerMessage } }
}`

/** Runs an operation whose root field is aliased `mutation`; asserts a 200 without GraphQL errors. */
export async function callMutation(url: string, query: string, variables: Record<string, unknown>, token = LOGIN_TOKEN) {
  const response = await gql(url, token, query, variables)
  assert.equal(response.status, 200, response.text)
  assert.equal(response.body.errors, undefined, response.text)
  return response.body.data.mutation
}
