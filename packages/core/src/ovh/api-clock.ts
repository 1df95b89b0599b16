import { OvhApiError } from './api-errors.js';
import { type OvhSend, parseOvhJson } from './api-transport.js';

/**
 * Server time minus local time, in seconds, from the unsigned `GET /auth/time`: fetched once and
 * shared by concurrent callers; a failure is not remembered (the next call asks again).
 */
export class OvhClockOffset {
  private delta: Promise<number> | undefined;

  constructor(
    private readonly send: OvhSend,
    private readonly now: () => number,
  ) {}

  /** The offset, fetched on first use. */
  get(): Promise<number> {
    this.delta ??= (async () => {
      const answer = await this.send('GET', '/auth/time', undefined, {});
      const time = Number(parseOvhJson(answer.text));
      if (answer.status !== 200 || !Number.isFinite(time)) {
        this.delta = undefined;
        throw new OvhApiError('transient', `OVH API /auth/time answered HTTP ${answer.status}`, {
          status: answer.status,
        });
      }
      return time - Math.round(this.now() / 1000);
    })();
    const pending = this.delta;
    pending.catch(() => {
      if (this.delta === pending) this.delta = undefined;
    });
    return pending;
  }

  /** Forgets the offset (OVH rejected a timestamp): the next use fetches it again. */
  forget(): void {
    this.delta = undefined;
  }
}
