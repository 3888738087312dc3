/**
 * AES-256-GCM for secrets at rest (project secrets, tenant/plan env, IdP client secrets, mail
 * bodies). Format: "v1:" + base64(iv[12] || tag[16] || ciphertext). The version prefix lets a
 * later key rotation tell old ciphertexts apart.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

export interface Encryption {
  encrypt(plain: string): string
  decrypt(sealed: string): string
  encryptJson(value: unknown): string
  decryptJson<T>(sealed: string): T
}

export function createEncryption(key: Buffer): Encryption {
  if (key.length !== 32) throw new Error('encryption key must be 32 bytes')
  const encrypt = (plain: string): string => {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')
  }
  const decrypt = (sealed: string): string => {
    if (!sealed.startsWith('v1:')) throw new Error('unknown ciphertext version')
    const raw = Buffer.from(sealed.slice(3), 'base64')
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  }
  return {
    encrypt,
    decrypt,
    encryptJson: (value) => encrypt(JSON.stringify(value)),
    decryptJson: <T>(sealed: string) => JSON.parse(decrypt(sealed)) as T,
  }
}
