/** A project membership as Contember's API speaks of it: a role and its variables' values. */
export interface MembershipVariable {
  name: string
  values: string[]
}

export interface Membership {
  role: string
  variables: MembershipVariable[]
}
