export {
  type FakeOvhEventsFault,
  type FakeOvhEventsRequest,
  type FakeOvhEventsServer,
  type FakeOvhEventsServerOptions,
  startFakeOvhEventsServer,
} from './fake-events-server.js';
export {
  type FakeCallRecordInput,
  type FakeOvhAccessRule,
  type FakeOvhApi,
  type FakeOvhApiOptions,
  type FakeOvhApiRequest,
  startFakeOvhApi,
} from './fake-ovh-api.js';
export { toOvhEnvelopeJson, toOvhJson } from './json.js';
