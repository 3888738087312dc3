/**
 * For the embedded database only: without ENCRYPTION_KEY a key is generated once into
 * DATA_DIR/encryption.key (mode 0600) so that `npm start` works on a fresh machine.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEncryptionKey } from '../../config.js'

export function loadOrCreateKeyFile(dataDir: string): { key: Buffer, created: boolean, path: string } {
  const path = join(dataDir, 'encryption.key')
  try {
    return { key: parseEncryptionKey(readFileSync(path, 'utf8'), path), created: false, path }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  mkdirSync(dataDir, { recursive: true })
  const key = randomBytes(32)
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
  return { key, created: true, path }
}
