/**
 * What every domain function receives: the data layer, configuration, and the few capabilities
 * that tests want to control (clock, hashing). Nothing in domain/ reads process.env or imports
 * an HTTP or GraphQL library.
 */
import type { Config } from '../config.js'
import type { Database, Db } from '../db/client.js'
import { createEncryption, type Encryption } from './crypto/encryption.js'
import { createPasswordHasher, type PasswordHasher } from './crypto/passwords.js'
import { createOutboxSignal, type OutboxSignal } from './mail/outbox-signal.js'

export interface DomainContext {
  readonly database: Database
  readonly db: Db
  readonly config: Config
  readonly encryption: Encryption
  readonly passwords: PasswordHasher
  readonly clock: () => Date
  /** Tells the mail dispatcher (if one runs) that an outbox row was written. */
  readonly outbox: OutboxSignal
}

export function createDomainContext(database: Database, config: Config, encryptionKey: Buffer, clock = () => new Date()): DomainContext {
  return {
    database,
    db: database.db,
    config,
    encryption: createEncryption(encryptionKey),
    passwords: createPasswordHasher({ memoryKib: config.passwords.argon2MemoryKib, timeCost: config.passwords.argon2TimeCost }),
    clock,
    outbox: createOutboxSignal(),
  }
}

/** Who performs an action, as recorded in the audit log. */
export interface Actor {
  identityId?: string
  personId?: string
  /** REST: the tenants API key's name. */
  apiKeyName?: string
  ip?: string
  userAgent?: string
  /** The trusted proxy's own address when `ip` came from a forwarding header (2.2: metadata.forwarderIp). */
  forwarderIp?: string
  requestId?: string
}
