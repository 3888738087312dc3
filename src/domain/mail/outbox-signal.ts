/**
 * The link between writers of mail_outbox and the dispatcher: a writer announces the id of a
 * row it wrote; the dispatcher (when one runs) tries to deliver it as soon as the writer's
 * transaction has committed. Lives in the DomainContext so domain code needs no dispatcher.
 */
export interface OutboxSignal {
  /** Announce a freshly written outbox row (its transaction may not have committed yet). */
  notify(mailId: string): void
  /** The dispatcher subscribes; returns the unsubscribe function. */
  subscribe(listener: (mailId: string) => void): () => void
}

export function createOutboxSignal(): OutboxSignal {
  const listeners = new Set<(mailId: string) => void>()
  return {
    notify(mailId) {
      for (const listener of listeners) listener(mailId)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
