/**
 * @cti-bridge/adapter-odoo — Odoo adapter for cti-bridge, on odoo-await (XML-RPC): callers found
 * on `res.partner` (and optionally `crm.lead`) by phone, calls logged in the chatter as done Call
 * activities, missed calls followed up with an open Call activity.
 *
 * @packageDocumentation
 */
export { odoo } from './adapter.js';
export type { OdooOptions } from './options.js';
