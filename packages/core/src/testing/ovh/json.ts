/**
 * JSON the way the OVH events server writes it: bigints (the nanosecond `Timestamp`/`TsGet`) become
 * bare JSON integers with every digit, which `JSON.stringify` alone cannot do.
 */

const MARK = '__ovh_bigint__:';
const MARKED = new RegExp(`"${MARK}(-?\\d+)"`, 'g');

/** Serialises a value to JSON, writing bigints as bare integers (`1425554670255954700`). */
export function toOvhJson(value: unknown): string {
  let hasBig = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') {
      hasBig = true;
      return `${MARK}${v.toString()}`;
    }
    return v;
  });
  return hasBig ? text.replace(MARKED, '$1') : text;
}

/** A v1 response body `{Session, Message, Events}` as text. */
export function toOvhEnvelopeJson(session: string, events: readonly unknown[], message = ''): string {
  return toOvhJson({ Session: session, Message: message, Events: events });
}
