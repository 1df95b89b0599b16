import type { CrmAdapter } from '../adapter/contract.js';

/**
 * What an adapter author provides to run the conformance suite: the adapter, wired to a fake of
 * its CRM on 127.0.0.1, and a few hooks into that fake.
 */
export interface ConformanceHarness {
  /** The adapter under test, talking to the fake. */
  readonly adapter: CrmAdapter;
  /**
   * Stores a record directly in the fake CRM (not through the adapter) with the phone number
   * written exactly as given. Returns the record id the adapter should report.
   */
  seedContact(input: SeedContactInput): Promise<{ readonly id: string }>;
  /** Call activities the fake holds for an OVH call id (as logged by `logCall`). */
  loggedCalls(callId: string): Promise<readonly LoggedCallView[]>;
  /**
   * Makes the fake answer the next `times` (default 1) requests of the given family with this
   * HTTP status (or the CRM's equivalent fault), using the CRM's real error body.
   * `retryAfterSeconds` sets the Retry-After (or equivalent) on 429s.
   */
  injectFault(fault: InjectedFault): void;
  /** Removes every record and fault, so tests do not see each other's data. */
  reset(): Promise<void>;
  /**
   * Lets the CRM's search catch up with the writes made so far (a search index that lags, as
   * HubSpot's and Salesforce's do). The suite calls it before it checks that a record just
   * written is found by search. Omit it when the fake's search sees writes at once.
   */
  settle?(): Promise<void>;
  /** Stops the fake and closes the adapter. */
  close(): Promise<void>;
  /**
   * Credentials the adapter was configured with (tokens, passwords, client secrets). The suite
   * checks that none of them ever appears in an error message, its JSON form or its causes.
   */
  readonly secrets?: readonly string[];
}

/** A contact to seed in the fake CRM. */
export interface SeedContactInput {
  readonly name: string;
  /** Stored as is. */
  readonly phone: string;
  readonly kind?: 'person' | 'company';
  /** Last activity on the record, for ranking. */
  readonly lastActivityAt?: Date;
}

/** A logged call as the fake stores it, reduced to what the suite checks. */
export interface LoggedCallView {
  readonly id: string;
  /** Record id the activity is attached to, when any. */
  readonly attachedTo?: string;
  readonly direction?: string;
  /** Duration in seconds, as the CRM stores it (converted). */
  readonly durationSeconds?: number;
  /** Free text of the activity (subject + body), where outcome words appear. */
  readonly text: string;
}

/** A fault for {@link ConformanceHarness.injectFault}. */
export interface InjectedFault {
  readonly status: 400 | 401 | 429 | 500 | 503;
  /** Which requests: lookups or writes (default: any). */
  readonly on?: 'lookup' | 'write' | 'any';
  readonly times?: number;
  readonly retryAfterSeconds?: number;
}
