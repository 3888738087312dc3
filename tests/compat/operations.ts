/**
 * The operations @contember/react-client-tenant 2.0.8 sends (reference: contember-client.md §4),
 * built with the published typed builders of @contember/graphql-client-tenant 2.0.8 the way the
 * hooks build them, and rendered to text with the hooks' own TextWriter code. compat tests check
 * the text is byte-identical to the fixture, then send it with the real GraphQlClient.
 */
import { ParameterRef, TextWriter, util, type Fetcher } from 'graphql-ts-client-api'
import * as tenantClient from '@contember/graphql-client-tenant'

// The package's .d.ts re-exports extensionless paths that NodeNext resolution cannot follow, so
// TypeScript sees no exports; the builders are used untyped (the text comparison checks them).
const T = tenantClient as any

const alias = (options: any) => options.alias('mutation')
const person = T.person$.id.email.name
/** The hooks select these person fields (person$$ of the package also has passwordlessEnabled). */
const personWithOtp = person.otpEnabled
const membershipValidation = T.membershipValidationError$$
const memberships = T.membership$.role.variables(T.variableEntry$$)

const builders = {
  addProjectMemberMutation: () => T.mutation$.addProjectMember(
    T.addProjectMemberResponse$.ok.error(T.addProjectMemberError$$.membershipValidation(membershipValidation)), alias),
  changeMyPasswordMutation: () => T.mutation$.changeMyPassword(T.changeMyPasswordResponse$.ok.error(T.changeMyPasswordError$$), alias),
  changeMyProfile: () => T.mutation$.changeMyProfile(T.changeMyProfileResponse$.ok.error(T.changeMyProfileError$$), alias),
  changeProfile: () => T.mutation$.changeProfile(T.changeProfileResponse$.ok.error(T.changeProfileError$$), alias),
  confirmOtpMutation: () => T.mutation$.confirmOtp(T.confirmOtpResponse$.ok.error(T.confirmOtpError$$), alias),
  createApiKeyMutation: () => T.mutation$.createApiKey(
    T.createApiKeyResponse$.ok
      .error(T.createApiKeyError$$.membershipValidation(membershipValidation))
      .result(T.createApiKeyResult$.apiKey(T.apiKeyWithToken$.id.token.identity(T.identity$$))), alias),
  createGlobalApiKeyMutation: () => T.mutation$.createGlobalApiKey(
    T.createApiKeyResponse$.ok.error(T.createApiKeyError$$)
      .result(T.createApiKeyResult$.apiKey(T.apiKeyWithToken$.id.token.identity(T.identity$$))), alias),
  createResetPasswordRequestMutation: () => T.mutation$.createResetPasswordRequest(
    T.createPasswordResetRequestResponse$.ok.error(T.createPasswordResetRequestError$$), alias),
  createSessionTokenMutation: () => T.mutation$.createSessionToken(
    T.createSessionTokenResponse$.ok.error(T.createSessionTokenError$$).result(T.createSessionTokenResult$.token.person(person)), alias),
  disableApiKeyMutation: () => T.mutation$.disableApiKey(T.disableApiKeyResponse$.ok.error(T.disableApiKeyError$$), alias),
  disableOtpMutation: () => T.mutation$.disableOtp(T.disableOtpResponse$.ok.error(T.disableOtpError$$), alias),
  inviteMutation: () => T.mutation$.invite(
    T.inviteResponse$.ok
      .error(T.inviteError$$.membershipValidation(membershipValidation))
      .result(T.inviteResult$.isNew.person(person.identity(T.identity$$))), alias),
  prepareOtpMutation: () => T.mutation$.prepareOtp(T.prepareOtpResponse$.ok.result(T.prepareOtpResult$$), alias),
  removeProjectMemberMutation: () => T.mutation$.removeProjectMember(T.removeProjectMemberResponse$.ok.error(T.removeProjectMemberError$$), alias),
  resetPasswordMutation: () => T.mutation$.resetPassword(T.resetPasswordResponse$.ok.error(T.resetPasswordError$$), alias),
  signInIDPMutation: () => T.mutation$.signInIDP(
    T.signInIDPResponse$.ok.error(T.signInIDPError$$).result(T.signInIDPResult$.token.idpResponse.person(person)), alias),
  signInMutation: () => T.mutation$.signIn(T.signInResponse$.ok.error(T.signInError$$).result(T.signInResult$.token.person(person)), alias),
  signOutMutation: () => T.mutation$.signOut(T.signOutResponse$.ok.error(T.signOutError$$), alias),
  updateProjectMemberMutation: () => T.mutation$.updateProjectMember(
    T.updateProjectMemberResponse$.ok.error(T.updateProjectMemberError$$.membershipValidation(membershipValidation)), alias),
  initSignInPasswordlessMutation: () => T.mutation$.initSignInPasswordless(
    T.initSignInPasswordlessResponse$.ok.error(T.initSignInPasswordlessError$$).result(T.initSignInPasswordlessResult$$), alias),
  signInPasswordlessMutation: () => T.mutation$.signInPasswordless(
    T.signInPasswordlessResponse$.ok.error(T.signInPasswordlessError$$).result(T.signInPasswordlessResult$.token.person(person)), alias),
  activatePasswordlessOtpMutation: () => T.mutation$.activatePasswordlessOtp(
    T.activatePasswordlessOtpResponse$.ok.error(T.activatePasswordlessOtpError$$), alias),
  enableMyPasswordlessMutation: () => T.mutation$.enableMyPasswordless(T.toggleMyPasswordlessResponse$.ok.error(T.toggleMyPasswordlessError$$), alias),
  disableMyPasswordlessMutation: () => T.mutation$.disableMyPasswordless(T.toggleMyPasswordlessResponse$.ok.error(T.toggleMyPasswordlessError$$), alias),
  initSignInIDPMutation: () => T.mutation$.initSignInIDP(
    T.initSignInIDPResponse$.ok.error(T.initSignInIDPError$$).result(T.initSignInIDPResult$.authUrl.sessionData), alias),
  meQuery: () => T.query$.me(T.identity$$
    .person(personWithOtp)
    .projects(T.identityProjectRelation$.project(T.project$$).memberships(memberships))
    .permissions(T.identityGlobalPermissions$$)),
  projectRolesDefinitionQuery: () => T.query$.projectBySlug(T.project$.roles(T.roleDefinition$.name.variables(
    T.roleVariableDefinition$$
      .on(T.roleConditionVariableDefinition$$)
      .on(T.roleEntityVariableDefinition$$)
      .on(T.rolePredefinedVariableDefinition$$)))),
  projectMembersQuery: () => T.query$.projectBySlug({ slug: ParameterRef.of('projectSlug') }, T.project$.members(
    { input: ParameterRef.of('membersInput') },
    T.projectIdentityRelation$.identity(T.identity$$.person(personWithOtp).apiKey(T.apiKey$.id)).memberships(memberships))),
  projectMembershipsQuery: () => T.query$.projectMemberships(memberships),
} satisfies Record<string, () => unknown>

export type OperationName = keyof typeof builders

/** The hooks' rendering (contember-client.md §4): `mutation(<variables>) {selection}fragments`. */
function render(fetcher: Fetcher<string, object, object>): string {
  const writer = new TextWriter()
  writer.text(fetcher.fetchableType.name.toLowerCase())
  if (fetcher.variableTypeMap.size) {
    writer.scope({ type: 'ARGUMENTS', multiLines: fetcher.variableTypeMap.size > 2, suffix: ' ' }, () =>
      util.iterateMap(fetcher.variableTypeMap, ([name, type]) => { writer.seperator(); writer.text(`$${name}: ${type}`) }))
  }
  writer.text(fetcher.toString())
  writer.text(fetcher.toFragmentString())
  return writer.toString()
}

export const OPERATIONS = Object.fromEntries(
  Object.entries(builders).map(([name, build]) => [name, render(build() as Fetcher<string, object, object>)]),
) as Record<OperationName, string>
