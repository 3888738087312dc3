/**
 * Have I Been Pwned's k-anonymity range API, for the tenant setting `password.checkHibp`
 * (Contember 2.2): only the first five hex digits of the password's SHA-1 leave the process,
 * and the answer lists the suffixes seen in breaches (with `Add-Padding`, padded with
 * zero-count decoys so the response size says nothing). Fails open after 1.5 s or on any
 * error, as Contember does: a breach list that is down must not stop people from setting a
 * password, and the other rules of the policy still apply.
 */
import { createHash } from 'node:crypto'

const TIMEOUT_MS = 1500

export async function isPwnedPassword(baseUrl: string, password: string): Promise<boolean> {
  const digest = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase()
  const suffix = digest.slice(5)
  try {
    const response = await fetch(`${baseUrl}/range/${digest.slice(0, 5)}`, {
      headers: { 'Add-Padding': 'true', 'User-Agent': 'tenant-gateway' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    if (!response.ok) return false
    for (const line of (await response.text()).split('\n')) {
      const [hash, count] = line.trim().split(':')
      if (hash?.toUpperCase() === suffix && Number(count) > 0) return true
    }
    return false
  } catch {
    return false
  }
}
