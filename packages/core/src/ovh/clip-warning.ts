import type { Logger } from '../logger.js';
import { MAX_FIELD_LENGTH, takeClippedFieldCount } from './normalize.js';

/** Reports the event fields that normalising clipped, at most once a minute. */
export class ClippedFieldWarning {
  private clippedSinceWarning = 0;
  private lastClipWarning = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number) {}

  /** Takes the count of fields clipped since the last call; warns on `log` when due. */
  check(log: Logger): void {
    const clippedNow = takeClippedFieldCount();
    if (clippedNow > 0) {
      this.clippedSinceWarning += clippedNow;
      if (this.now() - this.lastClipWarning >= 60_000) {
        this.lastClipWarning = this.now();
        log.warn(
          { fields: this.clippedSinceWarning, maxLength: MAX_FIELD_LENGTH },
          `oversized event fields clipped to ${MAX_FIELD_LENGTH} characters (said at most once a minute)`,
        );
        this.clippedSinceWarning = 0;
      }
    }
  }
}
