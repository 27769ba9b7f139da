/**
 * A small in-memory LRU of webhook delivery ids this process has accepted, so a redelivery is answered
 * `{ duplicate: true }` at once. It is only a fast path: the sync job itself is deduplicated by delivery id in Redis,
 * which also covers redeliveries that reach another worker replica.
 */
export class DeliveryCache {
  private readonly entries = new Map<string, true>();

  /** @param capacity how many ids are remembered; the least recently seen is forgotten first. */
  constructor(readonly capacity = 1000) {}

  /** Whether `id` was added and not evicted since; a hit refreshes it. */
  has(id: string): boolean {
    if (!this.entries.has(id)) return false;
    this.entries.delete(id);
    this.entries.set(id, true);
    return true;
  }

  /** Remembers `id`, evicting the least recently seen id when full. */
  add(id: string): void {
    this.entries.delete(id);
    this.entries.set(id, true);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Forgets `id` (used when accepting it failed, so a retry is not taken for a duplicate). */
  delete(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
