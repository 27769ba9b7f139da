/**
 * Coalesces the calls made in one tick into one batch (the DataLoader pattern): a hundred node
 * jobs whose Redis replies arrived together go on in the same tick, and their next calls become
 * one script run instead of a hundred. The batch goes out when the tick's microtasks have run
 * (`process.nextTick`), not an event-loop turn later as ioredis' auto-pipelining does, so Redis
 * gets work while this process handles the next replies.
 */
export type BatchOutcome<Out> = { ok: true; value: Out } | { ok: false; error: unknown };

export class TickBatcher<In, Out> {
  private pending: { input: In; resolve: (value: Out) => void; reject: (error: unknown) => void }[] = [];

  /**
   * @param runBatch runs the inputs in order and gives one outcome per input (one input's error
   *   fails that call only); a rejection fails every call of the batch.
   * @param maxBatch inputs per batch; a fuller tick makes several.
   */
  constructor(
    private readonly runBatch: (inputs: In[]) => Promise<BatchOutcome<Out>[]>,
    private readonly maxBatch = 100,
  ) {}

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length === 1) process.nextTick(() => this.flush());
      else if (this.pending.length >= this.maxBatch) this.flush();
    });
  }

  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.runBatch(batch.map((b) => b.input)).then(
      (outcomes) => {
        batch.forEach((b, i) => {
          const outcome = outcomes[i];
          if (!outcome) b.reject(new Error(`batch gave ${outcomes.length} outcomes for ${batch.length} calls`));
          else if (outcome.ok) b.resolve(outcome.value);
          else b.reject(outcome.error);
        });
      },
      (error: unknown) => {
        for (const b of batch) b.reject(error);
      },
    );
  }
}
