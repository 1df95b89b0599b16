export { DEFAULT_COUNTRY, DEFAULT_OVH_EVENTS_URL, DEFAULT_POLL_TIMEOUT_MS } from './defaults.js';
export {
  adapterNameSchema,
  countryCodeSchema,
  DEFAULT_DELIVERY,
  DEFAULT_POLICIES,
  deliveryOptionsSchema,
  policiesSchema,
  routeAdapterFieldsSchema,
  routeFieldsSchema,
} from './schemas.js';
