import { test } from 'node:test'
import assert from 'node:assert/strict'
import bcrypt from 'bcryptjs'
import { createEncryption } from '../../src/domain/crypto/encryption.js'
import { createPasswordHasher } from '../../src/domain/crypto/passwords.js'
import { constantTimeEqual, generateToken, sha256Hex } from '../../src/domain/crypto/tokens.js'

test('tokens are 40 lowercase hex (160 bits) and distinct', () => {
  const tokens = new Set(Array.from({ length: 100 }, generateToken))
  assert.equal(tokens.size, 100)
  for (const token of tokens) assert.match(token, /^[0-9a-f]{40}$/)
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
})

test('constant-time comparison', () => {
  assert.equal(constantTimeEqual('abc', 'abc'), true)
  assert.equal(constantTimeEqual('abc', 'abd'), false)
  assert.equal(constantTimeEqual('abc', 'abcd'), false)
})

test('AES-256-GCM round trip, random IV, tamper detected', () => {
  const enc = createEncryption(Buffer.alloc(32, 1))
  const a = enc.encrypt('secret value')
  const b = enc.encrypt('secret value')
  assert.notEqual(a, b)
  assert.ok(!a.includes('secret'))
  assert.equal(enc.decrypt(a), 'secret value')
  assert.deepEqual(enc.decryptJson(enc.encryptJson({ A: '1' })), { A: '1' })
  const raw = Buffer.from(a.slice(3), 'base64')
  raw[raw.length - 1] ^= 1
  assert.throws(() => enc.decrypt('v1:' + raw.toString('base64')))
  assert.throws(() => createEncryption(Buffer.alloc(32, 2)).decrypt(a))
})

test('argon2id hashes verify; bcrypt ($2a$, $2b$, $2y$) verifies and asks for a rehash', async () => {
  const hasher = createPasswordHasher({ memoryKib: 1024, timeCost: 1 })
  const hash = await hasher.hash('correct horse')
  assert.match(hash, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
  assert.deepEqual(await hasher.verify(hash, 'correct horse'), { valid: true, needsRehash: false })
  assert.deepEqual(await hasher.verify(hash, 'wrong'), { valid: false, needsRehash: false })

  const stronger = createPasswordHasher({ memoryKib: 2048, timeCost: 1 })
  assert.deepEqual(await stronger.verify(hash, 'correct horse'), { valid: true, needsRehash: true })

  const b = bcrypt.hashSync('legacy pass', 4)
  for (const prefix of ['$2a$', '$2b$', '$2y$']) {
    const stored = prefix + b.slice(4)
    assert.deepEqual(await hasher.verify(stored, 'legacy pass'), { valid: true, needsRehash: true })
    assert.deepEqual(await hasher.verify(stored, 'nope'), { valid: false, needsRehash: false })
  }
  assert.deepEqual(await hasher.verify('garbage', 'x'), { valid: false, needsRehash: false })
})
