/** Country used to read national numbers (`06…`) when none is configured. */
export const DEFAULT_COUNTRY = 'FR';

/** Base URL of the OVH CTI v1 event stream when none is configured. */
export const DEFAULT_OVH_EVENTS_URL = 'https://events.voip.ovh.net';
