/**
 * Adds a long list of jobs in slices, with a few slices on the way at once.
 *
 * Slices grow from small to large, and the first is confirmed before the second is built, so the
 * first nodes of a 10,000-node plan start while the rest is still going out. Several are in
 * flight because awaiting each in turn leaves Redis idle while this process builds the next
 * slice, and this process idle while Redis runs it. The slices go out in order on one
 * connection, so Redis adds them in order.
 */
export interface SliceOptions {
  /** Sizes of the first slices; the last one repeats. @defaultValue [50, 200, 500] */
  sizes?: readonly number[];
  /** Slices added but not yet confirmed, at most. @defaultValue 4 */
  inFlight?: number;
}

export async function addInSlices<T>(
  items: readonly T[],
  add: (slice: T[]) => Promise<unknown>,
  options: SliceOptions = {},
): Promise<void> {
  const sizes = options.sizes ?? [50, 200, 500];
  const limit = options.inFlight ?? 4;
  if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new RangeError(`slice sizes must be positive integers, got ${JSON.stringify(sizes)}`);
  }
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`slices in flight must be a positive integer, got ${String(limit)}`);
  }
  const pending = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for (let start = 0, n = 0; start < items.length && !failure; n++) {
    // Building a slice holds this process for a while: let replies in first, so workers here
    // start the jobs already added instead of waiting for the whole list to go out.
    if (n > 0) await new Promise((resolve) => setImmediate(resolve));
    const size = sizes[Math.min(n, sizes.length - 1)]!;
    const slice = items.slice(start, start + size);
    start += size;
    const added: Promise<void> = add(slice)
      .then(
        () => undefined,
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => pending.delete(added));
    pending.add(added);
    // The first slice goes alone: its jobs start before this process is busy with the next ones.
    if (n === 0 || pending.size >= limit) await Promise.race(pending);
  }
  await Promise.all(pending);
  if (failure) throw failure.error;
}
