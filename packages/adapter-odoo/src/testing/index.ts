/**
 * @cti-bridge/adapter-odoo/testing — a fake Odoo speaking real XML-RPC on 127.0.0.1, and a
 * conformance harness wiring the `odoo()` adapter to it.
 *
 * @packageDocumentation
 */

export {
  type FakeOdoo,
  type FakeOdooFault,
  type FakeOdooOptions,
  type FakeOdooRequest,
  type SeedLeadInput,
  type SeedPartnerInput,
  startFakeOdoo,
} from './fake/server.js';
export {
  createConformanceHarness,
  htmlToText,
  type OdooConformanceHarness,
  type OdooHarnessOptions,
  odooFaultFor,
} from './harness.js';
