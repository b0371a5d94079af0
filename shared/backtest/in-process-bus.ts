/**
 * The backtest's bus: synchronous, single-threaded, run-to-completion. A message published while
 * another is being delivered waits in a FIFO queue until that delivery finishes, exactly like an
 * event loop, so a plane never sees a re-entrant call (an intent emitted while the strategy plane
 * handles a bar reaches the order plane after the strategy plane has returned).
 */
export type TopicHandlers<T> = { [K in keyof T]?: ((message: T[K]) => void)[] };

export class InProcessBus<T extends Record<string, unknown>> {
  private readonly handlers: TopicHandlers<T> = {};
  // The queue keeps its arrays between dispatches (truncating them would free and regrow the storage).
  private readonly queuedTopics: (keyof T)[] = [];
  private readonly queuedMessages: unknown[] = [];
  private queued = 0;
  private dispatching = false;
  private delivered = 0;

  /** Handlers run in subscription order: the order of subscriptions is the order of the planes. */
  subscribe<K extends keyof T>(topic: K, handler: (message: T[K]) => void): void {
    (this.handlers[topic] ??= []).push(handler);
  }

  publish<K extends keyof T>(topic: K, message: T[K]): void {
    if (this.dispatching) {
      this.queuedTopics[this.queued] = topic;
      this.queuedMessages[this.queued++] = message;
      return;
    }
    this.dispatching = true;
    try {
      this.deliver(topic, message);
      for (let i = 0; i < this.queued; i++) {
        this.deliver(this.queuedTopics[i], this.queuedMessages[i] as T[keyof T]);
      }
    } finally {
      // Most deliveries queue nothing; delivered messages are let go so the queue holds no garbage.
      if (this.queued !== 0) {
        this.queuedMessages.fill(undefined, 0, this.queued);
        this.queued = 0;
      }
      this.dispatching = false;
    }
  }

  /** Messages delivered so far (each message counted once, whatever its number of subscribers). */
  messageCount(): number {
    return this.delivered;
  }

  private deliver<K extends keyof T>(topic: K, message: T[K]): void {
    this.delivered++;
    const list = this.handlers[topic];
    if (!list) return;
    for (let i = 0; i < list.length; i++) list[i](message);
  }
}
