/** Country used to read national numbers (`06…`) when none is configured. */
export const DEFAULT_COUNTRY = 'FR';

/** Base URL of the OVH CTI v1 event stream when none is configured. */
export const DEFAULT_OVH_EVENTS_URL = 'https://events.voip.ovh.net';

/**
 * Client timeout of one OVH poll when none is configured: longer than the ~60 s the server holds a
 * poll, so that a held poll ends with the server's answer, not with ours.
 */
export const DEFAULT_POLL_TIMEOUT_MS = 65_000;
