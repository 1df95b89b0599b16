import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toOvhEnvelopeJson } from '../testing/index.js';
import { agentNumberOf, normalizeEvent, parseOvhDate, secondsToMs, toNanoseconds } from './normalize.js';
import type { OvhEvent, OvhLineEvent, OvhQueueEvent } from './types.js';
import {
  fitsLineData,
  fitsQueueData,
  fitsSpec,
  fitsWireEvent,
  parseEnvelope,
  quoteBigTimestamps,
  readLineData,
  readQueueData,
  WIRE_DETAILS_SPEC,
  WIRE_EVENT_SPEC,
  WIRE_LINE_DATA_SPEC,
  WIRE_QUEUE_DATA_SPEC,
  wireEventSchema,
  wireLineDataSchema,
  wireQueueDataSchema,
} from './wire.js';

const TOKEN = 'XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX';

/** A line event shaped like OVH's guide, with overrides. */
function lineRaw(overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}) {
  return {
    Data: {
      Billing: '0033912312312',
      Body: 'SIP/2.0 180 Ringing',
      CallId: 'N2ZkZmEyNGMxZWM0N2VhN2M4NGJkMTY4ZGYwZmU2OTY.',
      Called: '0033912312312',
      Calling: '0033612345678',
      Cseq: '102 INVITE',
      Dialed: '0033912312312',
      Event: 'start_ringing',
      Protocol: 'sip',
      RelevantInfo: '',
      Ts: 1425554670.102,
      TsGet: '1425554670238926801',
      ...data,
    },
    Date: '2015-03-05T12:24:30.255954 (CET)',
    Details: {
      Description: 'Accueil',
      Id: '295670',
      IdBillingAccount: '59415',
      SimultaneousLine: '2',
      Type: 'sipCirpack',
    },
    Event: 'start_ringing',
    Ressource: '0033912312312',
    Service: 'sip',
    Timestamp: '1425554670255954701',
    Token: TOKEN,
    ...overrides,
  };
}

function queueRaw(
  event: string,
  data: Record<string, unknown> = {},
  overrides: Record<string, unknown> = {},
) {
  return {
    Data: {
      Action: event,
      Queue: '0033972999999',
      QueueMemberUUID: '453324f8-3424-4322-4242-362fd23d0000',
      QueueMemberSessionUUID: 'e260ffd0-a731-11df-9341-e7d9456f8886',
      QueueMemberCIDName: '+33612345678',
      QueueMemberCIDNumber: '0612345678',
      QueueMemberJoinedTime: '1559904736',
      Ts: '1559904736.120',
      ...data,
    },
    Date: '2019-06-07T12:52:16.120000 (CEST)',
    Details: {
      Description: 'Support',
      Id: '1',
      IdBillingAccount: '59415',
      SimultaneousLine: '0',
      Type: 'easyHunting',
    },
    Event: event,
    Ressource: '0033972999999',
    Service: 'queues',
    Timestamp: 1559904736130000000,
    Token: TOKEN,
    ...overrides,
  };
}

function ok(raw: unknown, defaultCountry?: string): OvhEvent {
  const result = normalizeEvent(raw, {
    token: 'polled-token',
    ...(defaultCountry ? { defaultCountry } : {}),
  });
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result.event;
}

function fail(raw: unknown): string {
  const result = normalizeEvent(raw, { token: 'polled-token' });
  if (result.ok) throw new Error(`expected a failure for ${JSON.stringify(raw)}`);
  expect(result.raw).toBe(raw);
  return result.error;
}

describe('parseEnvelope', () => {
  it('reads Timestamp and TsGet as JSON numbers: to within 256 ns (they exceed 2^53)', () => {
    const text =
      '{"Session":"abc","Message":"","Events":[{"Event":"start_ringing","Timestamp":1425554670255954701,' +
      '"Data":{"CallId":"c1","TsGet": 1425554670238926801 ,"Ts":1425554670.102}}]}';
    const parsed = parseEnvelope(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.envelope.session).toBe('abc');
    const raw = parsed.envelope.events[0] as { Timestamp: number; Data: { TsGet: number; Ts: number } };
    expect(raw.Timestamp).toBe(Number('1425554670255954701'));
    expect(raw.Data.TsGet).toBe(Number('1425554670238926801'));
    expect(raw.Data.Ts).toBe(1425554670.102);
    const event = ok(raw);
    // the double nearest to the digits: 1425554670255954688, 13 ns off
    expect(event.timestampNs).toBe(1425554670255954688n);
    expect(event.at.getTime()).toBe(1425554670102);
  });

  it('leaves look-alikes inside strings untouched', () => {
    const text = '{"Body":"say \\"Timestamp\\": 12345678901234567890 please","Timestamp":5}';
    expect(JSON.parse(quoteBigTimestamps(text))).toEqual({
      Body: 'say "Timestamp": 12345678901234567890 please',
      Timestamp: '5',
    });
  });

  it('reports non-JSON and non-envelope bodies without throwing', () => {
    const html = parseEnvelope('<html>502 Bad Gateway</html>');
    expect(html.ok).toBe(false);
    if (!html.ok) expect(html.error).toMatch(/not JSON.*<html>/);
    const array = parseEnvelope('[{"event":"start_ringing"}]');
    expect(array.ok).toBe(false);
    const wrong = parseEnvelope('{"Session":42,"Events":"x"}');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error).toMatch(/Session|Events/);
  });

  it('accepts missing or null Session/Message/Events and unknown envelope keys', () => {
    const parsed = parseEnvelope('{"Events":null,"Extra":{"a":1}}');
    expect(parsed).toEqual({ ok: true, envelope: { session: '', message: '', events: [] } });
  });

  it('property: never throws on any JSON text, and quoting keeps it valid JSON', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const result = parseEnvelope(text);
        expect(typeof result.ok).toBe('boolean');
        expect(() => JSON.parse(quoteBigTimestamps(text))).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('property: Timestamp and TsGet come out as the double nearest their digits, and 1 µs apart stays apart', () => {
    fc.assert(
      fc.property(
        // 2001 to 2033 in nanoseconds: one double step is 128 or 256 ns there
        fc.bigInt({ min: 10n ** 18n, max: 2n * 10n ** 18n }),
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        fc.constantFrom(' ', '', '\n  '),
        (timestamp, tsGet, space) => {
          const text = (ns: bigint) =>
            toOvhEnvelopeJson('s', [lineRaw({ Timestamp: ns }, { TsGet: tsGet, Ts: undefined })]).replace(
              /"Timestamp":/,
              `"Timestamp":${space}`,
            );
          const read = (ns: bigint) => {
            const parsed = parseEnvelope(text(ns));
            if (!parsed.ok) throw new Error(parsed.error);
            return ok(parsed.envelope.events[0]);
          };
          const event = read(timestamp);
          expect(event.timestampNs).toBe(BigInt(Number(timestamp.toString())));
          const off = (event.timestampNs ?? 0n) - timestamp;
          expect(off < 0n ? -off : off).toBeLessThanOrEqual(128n);
          expect((event.raw.Data as { TsGet: number }).TsGet).toBe(Number(tsGet.toString()));
          expect(read(timestamp + 1_000n).timestampNs).not.toBe(event.timestampNs);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/**
 * A JSON tree whose numbers are written as given (`{ num: '1767603600163324617' }`), so that big
 * integers, decimals and exponents can be put in the text as they are, with random spacing.
 */
type Tree = null | boolean | string | { num: string } | Tree[] | { obj: Array<[string, Tree]> };

const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.oneof(
      fc.string(),
      fc.constantFrom('"Timestamp": 12345678901234567890, ', 'x\\"TsGet":1,', 'Timestamp', '\\'),
    ),
    fc
      .oneof(
        fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
        fc.constantFrom('0', '-0', '1.5e3', '2E-7', '1767603600.120'),
      )
      .map((num) => ({ num })),
    fc.array(tie('tree'), { maxLength: 4 }),
    fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom(
              'Timestamp',
              'TsGet',
              'Ts',
              'Data',
              'xTimestamp',
              'Timestamp ',
              'a"Timestamp',
              '\\',
            ),
            fc.string(),
          ),
          tie('tree'),
        ),
        { maxLength: 5 },
      )
      .map((obj) => ({ obj })),
  ),
})).tree;

const space = fc.constantFrom('', ' ', '\n  ', '\t');

/** Writes a tree as JSON text, numbers as given, with `gaps` spacing around separators. */
function writeTree(tree: Tree, gaps: string[]): string {
  let k = 0;
  const gap = () => gaps[k++ % gaps.length] ?? '';
  const write = (t: Tree): string => {
    if (t === null || typeof t === 'boolean' || typeof t === 'string') return JSON.stringify(t);
    if (Array.isArray(t)) return `[${gap()}${t.map(write).join(`${gap()},${gap()}`)}${gap()}]`;
    if ('num' in t) return t.num;
    return `{${gap()}${t.obj.map(([key, v]) => `${JSON.stringify(key)}${gap()}:${gap()}${write(v)}`).join(`${gap()},${gap()}`)}${gap()}}`;
  };
  return write(tree);
}

/** What the lossless parse must give: numbers under `Timestamp`/`TsGet` keys as their exact text. */
function expectedTree(tree: Tree, key?: string): unknown {
  if (tree === null || typeof tree === 'boolean' || typeof tree === 'string') return tree;
  if (Array.isArray(tree)) return tree.map((t) => expectedTree(t));
  if ('num' in tree) return key === 'Timestamp' || key === 'TsGet' ? tree.num : JSON.parse(tree.num);
  const out: Record<string, unknown> = {};
  for (const [k, v] of tree.obj) {
    // As JSON.parse does: an own property even for `__proto__`, the last value of a repeated key.
    Object.defineProperty(out, k, {
      value: expectedTree(v, k),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

describe('quoteBigTimestamps', () => {
  it('property: quotes exactly the numbers under Timestamp/TsGet keys, whatever the spacing', () => {
    fc.assert(
      fc.property(treeArb, fc.array(space, { minLength: 1, maxLength: 5 }), (tree, gaps) => {
        const text = writeTree(tree, gaps);
        const quoted = quoteBigTimestamps(text);
        expect(JSON.parse(quoted)).toEqual(expectedTree(tree));
        // Nothing else changes: with the quotes after such keys taken out, both texts are the same.
        const unquote = (t: string) =>
          t.replace(/("(?:Timestamp|TsGet)"[ \t\r\n]*:[ \t\r\n]*)"([-+.\deE]+)"/g, '$1$2');
        expect(unquote(quoted)).toBe(unquote(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves what is not a whole JSON number under the key alone', () => {
    for (const text of [
      '{"Timestamp":"123"}',
      '{"Timestamp":0123}',
      '{"Timestamp":12a}',
      '{"Timestamp":1.e5}',
      '{"Timestamp":-}',
      '{"x\\"Timestamp\\":12}',
      '{"Data":"\\"TsGet\\": 12345678901234567890, "}',
      '{"_"Timestamp":1}',
    ]) {
      expect(quoteBigTimestamps(text)).toBe(text);
    }
    expect(quoteBigTimestamps('{"Timestamp" :\n -1.5e+3 }')).toBe('{"Timestamp" :\n "-1.5e+3" }');
    expect(quoteBigTimestamps('[{"TsGet":0},{"Timestamp":1}]')).toBe('[{"TsGet":"0"},{"Timestamp":"1"}]');
  });

  it('keeps an invalid number invalid: the body is still reported as not JSON', () => {
    const parsed = parseEnvelope('{"Events":[{"Event":"start_ringing","Timestamp":0123}]}');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/not JSON/);
  });

  it('quotes numbers under the keys at any depth (an unknown nested Timestamp too)', () => {
    const text =
      '{"Events":[{"Event":"x","Extra":{"Timestamp":12345678901234567891},"Data":{"TsGet":98765432109876543210}}]}';
    expect(JSON.parse(quoteBigTimestamps(text))).toEqual({
      Events: [
        {
          Event: 'x',
          Extra: { Timestamp: '12345678901234567891' },
          Data: { TsGet: '98765432109876543210' },
        },
      ],
    });
  });
});

describe('fast number readers', () => {
  it('property: toNanoseconds reads digit strings exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 26n }), fc.nat({ max: 3 }), (n, zeros) => {
        const text = '0'.repeat(zeros) + n.toString();
        expect(toNanoseconds(text)).toBe(n);
        expect(toNanoseconds(`-${text}`)).toBe(-n);
      }),
      { numRuns: 1000 },
    );
    expect(toNanoseconds('1767603600163324617')).toBe(1767603600163324617n);
    expect(toNanoseconds(' 1767603600163324617 ')).toBe(1767603600163324617n);
    expect(toNanoseconds('17676036001633246x7')).toBeUndefined();
  });

  it('property: secondsToMs reads seconds strings as Math.round(Number(text) * 1000)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 9_999_999_999 }),
        fc.option(fc.stringMatching(/^[0-9]{0,4}$/)),
        fc.constantFrom('', ' '),
        (seconds, fraction, pad) => {
          const text = `${pad}${seconds}${fraction === null ? '' : `.${fraction}`}${pad}`;
          const n = Number(text);
          const expected =
            text.trim() !== '' && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : undefined;
          expect(secondsToMs(text)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
    expect(secondsToMs('0.000')).toBeUndefined();
    expect(secondsToMs('1767603600.1')).toBe(1767603600100);
    expect(secondsToMs('1767603600.')).toBe(1767603600000);
    expect(secondsToMs('.5')).toBe(500);
  });
});

describe('fast checks', () => {
  const value = fc.oneof(
    fc.jsonValue(),
    fc.bigInt(),
    fc.constant(Number.NaN),
    fc.constant(Number.POSITIVE_INFINITY),
    fc.constant(undefined),
  );
  it('property: a fast check never accepts what the zod schema rejects', () => {
    const lineKeys = Object.keys(WIRE_LINE_DATA_SPEC);
    const queueKeys = Object.keys(WIRE_QUEUE_DATA_SPEC);
    const topKeys = [
      'Event',
      'Service',
      'Ressource',
      'Token',
      'Timestamp',
      'Date',
      'Details',
      'Data',
      'Other',
    ];
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...lineKeys, 'Extra'), value),
        fc.dictionary(fc.constantFrom(...queueKeys, 'Extra'), value),
        fc.dictionary(fc.constantFrom(...topKeys), fc.oneof(value, fc.constant('x'))),
        fc.dictionary(
          fc.constantFrom('Description', 'Id', 'IdBillingAccount', 'SimultaneousLine', 'Type'),
          value,
        ),
        (line, queue, top, details) => {
          if (fitsSpec(line, WIRE_LINE_DATA_SPEC))
            expect(wireLineDataSchema.safeParse(line).success).toBe(true);
          if (fitsSpec(queue, WIRE_QUEUE_DATA_SPEC))
            expect(wireQueueDataSchema.safeParse(queue).success).toBe(true);
          const event = { ...top, Details: details };
          if (fitsWireEvent(event)) expect(wireEventSchema.safeParse(event).success).toBe(true);
          if (fitsWireEvent(top)) expect(wireEventSchema.safeParse(top).success).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('property: the hand-written checks give the same answers as the specs', () => {
    const lineKeys = Object.keys(WIRE_LINE_DATA_SPEC);
    const queueKeys = Object.keys(WIRE_QUEUE_DATA_SPEC);
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...lineKeys, ...queueKeys, 'Extra'), value),
        fc.dictionary(
          fc.constantFrom(...Object.keys(WIRE_EVENT_SPEC), 'Other'),
          fc.oneof(value, fc.constant('x')),
        ),
        fc.dictionary(fc.constantFrom(...Object.keys(WIRE_DETAILS_SPEC)), value),
        fc.constantFrom('object', 'array', 'null'),
        (data, top, details, detailsAs) => {
          expect(fitsLineData(data)).toBe(fitsSpec(data, WIRE_LINE_DATA_SPEC));
          expect(fitsQueueData(data)).toBe(fitsSpec(data, WIRE_QUEUE_DATA_SPEC));
          const event = {
            ...top,
            Details: detailsAs === 'object' ? details : detailsAs === 'array' ? [details] : null,
          };
          const expected =
            fitsSpec(event, WIRE_EVENT_SPEC) &&
            (event.Details === null || fitsSpec(event.Details, WIRE_DETAILS_SPEC));
          expect(fitsWireEvent(event)).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
    for (const notData of [null, undefined, 'x', 3, [], [{}]]) {
      expect(fitsLineData(notData)).toBe(false);
      expect(fitsQueueData(notData)).toBe(false);
    }
  });

  it('reads each field of the spec once, into an object of its own', () => {
    let reads = 0;
    const data = {
      get CallId() {
        reads++;
        return 'c1';
      },
      Calling: '0033612345678',
      Unknown: 'not copied',
    };
    const line = readLineData(data);
    expect(reads).toBe(1);
    expect(line).toMatchObject({ CallId: 'c1', Calling: '0033612345678' });
    expect(line).not.toHaveProperty('Unknown');
    expect(Object.keys(line ?? {})).toEqual(Object.keys(WIRE_LINE_DATA_SPEC));
    expect(readLineData({ CallId: 1 })).toBeUndefined();
    expect(Object.keys(readQueueData({}) ?? {})).toEqual(Object.keys(WIRE_QUEUE_DATA_SPEC));
    expect(readQueueData({ Count: Number.NaN })).toBeUndefined();
  });
});

describe('normalizeEvent — line events', () => {
  it('normalises the guide example: numbers to E.164, details, times, raw kept', () => {
    const raw = lineRaw({ Extra: 'kept' }, { Unknown: 1 });
    const event = ok(raw) as OvhLineEvent;
    expect(event.kind).toBe('line');
    expect(event.name).toBe('start_ringing');
    expect(event.token).toBe(TOKEN);
    expect(event.service).toBe('sip');
    expect(event.resource).toBe('0033912312312');
    expect(event.callId).toBe('N2ZkZmEyNGMxZWM0N2VhN2M4NGJkMTY4ZGYwZmU2OTY.');
    expect(event.calling).toMatchObject({ raw: '0033612345678', e164: '+33612345678', withheld: false });
    expect(event.called.e164).toBe('+33912312312');
    expect(event.line.e164).toBe('+33912312312');
    expect(event.dialed?.e164).toBe('+33912312312');
    expect(event.protocol).toBe('sip');
    expect(event.at.toISOString()).toBe('2015-03-05T11:24:30.102Z');
    expect(event.details).toEqual({
      description: 'Accueil',
      id: '295670',
      billingAccountId: '59415',
      simultaneousLines: 2,
      type: 'sipCirpack',
    });
    expect(event.raw).toBe(raw);
    expect(event.raw.Extra).toBe('kept');
  });

  it('reads Ts as a number or as a string, identically', () => {
    const a = ok(lineRaw({}, { Ts: 1564687684.23 }));
    const b = ok(lineRaw({}, { Ts: '1564687684.230' }));
    expect(a.at.getTime()).toBe(1564687684230);
    expect(b.at.getTime()).toBe(a.at.getTime());
  });

  it('falls back to Timestamp (ns), then to Date with a (CET)/(CEST) label', () => {
    const fromTimestamp = ok(lineRaw({}, { Ts: undefined }));
    expect(fromTimestamp.at.toISOString()).toBe('2015-03-05T11:24:30.255Z');
    const fromDate = ok(lineRaw({ Timestamp: undefined }, { Ts: undefined }));
    expect(fromDate.at.toISOString()).toBe('2015-03-05T11:24:30.255Z');
    expect(fromDate.timestampNs).toBeUndefined();
    expect(parseOvhDate('2019-06-07T12:52:16.120000 (CEST)')).toBe(Date.parse('2019-06-07T10:52:16.120Z'));
    // No label: read as Paris wall time, summer or winter.
    expect(parseOvhDate('2019-06-07 12:52:16')).toBe(Date.parse('2019-06-07T10:52:16Z'));
    expect(parseOvhDate('2019-01-07T12:52:16')).toBe(Date.parse('2019-01-07T11:52:16Z'));
    expect(parseOvhDate('not a date')).toBeUndefined();
  });

  it('reads 0033…, +33… and national numbers alike, with a configurable default country', () => {
    const calling = ['0033612345678', '+33612345678', '0612345678', '06 12 34 56 78'].map(
      (n) => (ok(lineRaw({}, { Calling: n })) as OvhLineEvent).calling.e164,
    );
    expect(new Set(calling)).toEqual(new Set(['+33612345678']));
    const belgian = ok(lineRaw({}, { Calling: '0470123456' }), 'BE') as OvhLineEvent;
    expect(belgian.calling.e164).toBe('+32470123456');
    const withheld = ok(lineRaw({}, { Calling: 'anonymous' })) as OvhLineEvent;
    expect(withheld.calling.withheld).toBe(true);
  });

  it('uses the polled token when the event has none, and Ressource when Billing is missing', () => {
    const event = ok(lineRaw({ Token: undefined }, { Billing: undefined })) as OvhLineEvent;
    expect(event.token).toBe('polled-token');
    expect(event.line.e164).toBe('+33912312312');
  });

  it('accepts hold events and a registered event without CallId', () => {
    expect(ok(lineRaw({ Event: 'start_hold' })).name).toBe('start_hold');
    expect(ok(lineRaw({ Event: 'end_hold' })).name).toBe('end_hold');
    const registered = ok(lineRaw({ Event: 'registered' }, { CallId: undefined })) as OvhLineEvent;
    expect(registered.callId).toBe('');
  });

  it('rejects what cannot be used, with a message naming the problem', () => {
    expect(fail(lineRaw({}, { CallId: undefined }))).toMatch(/CallId is missing/);
    expect(fail({ Data: {} })).toMatch(/Event/);
    expect(fail(lineRaw({ Timestamp: undefined, Date: undefined }, { Ts: undefined }))).toMatch(
      /no usable time/,
    );
    expect(fail(lineRaw({}, { Calling: { nested: true } }))).toMatch(/Calling/);
    expect(fail(null)).toMatch(/not an object/);
    expect(fail([1, 2])).toMatch(/not an object/);
  });

  it('never throws, even on hostile objects', () => {
    const hostile = Object.defineProperty({ Event: 'start_ringing' }, 'Data', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(normalizeEvent(hostile, { token: 't' }).ok).toBe(false);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(() => normalizeEvent(value, { token: 't' })).not.toThrow();
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom('start_ringing', 'end_calling', 'agent-offering', 'member-count', 'whatever'),
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.dictionary(
          fc.constantFrom('CallId', 'Ts', 'Calling', 'QueueMemberUUID', 'Count', 'Queue'),
          fc.jsonValue(),
        ),
        (name, top, data) => {
          expect(() => normalizeEvent({ ...top, Event: name, Data: data }, { token: 't' })).not.toThrow();
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('normalizeEvent — queue events', () => {
  it('normalises a member-queue-start without Called/Calling', () => {
    const event = ok(queueRaw('member-queue-start')) as OvhQueueEvent;
    expect(event.kind).toBe('queue');
    expect(event.queue).toBe('0033972999999');
    expect(event.memberUuid).toBe('453324f8-3424-4322-4242-362fd23d0000');
    expect(event.memberSessionUuid).toBe('e260ffd0-a731-11df-9341-e7d9456f8886');
    expect(event.caller?.e164).toBe('+33612345678');
    expect(event.caller?.raw).toBe('0612345678');
    expect(event.callerName).toBeUndefined();
    expect(event.joinedAt?.toISOString()).toBe('2019-06-07T10:52:16.000Z');
    expect(event.details.type).toBe('easyHunting');
  });

  it('takes the caller from a numeric CID name, and keeps a real name as callerName', () => {
    const fromName = ok(queueRaw('member-queue-start', { QueueMemberCIDNumber: undefined })) as OvhQueueEvent;
    expect(fromName.caller?.e164).toBe('+33612345678');
    const named = ok(
      queueRaw('member-queue-start', { QueueMemberCIDName: 'Marc O Robinson' }),
    ) as OvhQueueEvent;
    expect(named.callerName).toBe('Marc O Robinson');
    expect(named.caller?.e164).toBe('+33612345678');
  });

  it('normalises both spellings of members-count and bridge-agent-fail', () => {
    const count = ok(
      queueRaw('member-count', { Count: '3', QueueMemberUUID: undefined, QueueMemberCIDNumber: undefined }),
    ) as OvhQueueEvent;
    expect(count.name).toBe('members-count');
    expect(count.count).toBe(3);
    expect(count.memberUuid).toBeUndefined();
    expect(ok(queueRaw('members-count', { Count: 0 })).name).toBe('members-count');
    const failed = ok(
      queueRaw('bridge-agent-failed', {
        QueueAgent: 'agent_0033972123456_id',
        QueueHangupCause: 'LOSE_RACE',
      }),
    ) as OvhQueueEvent;
    expect(failed.name).toBe('bridge-agent-fail');
    expect(failed.hangupCause).toBe('LOSE_RACE');
    expect(ok(queueRaw('bridge-agent-fail')).name).toBe('bridge-agent-fail');
  });

  it('reads agent ids into agent numbers', () => {
    const event = ok(
      queueRaw('bridge-agent-start', {
        QueueAgent: 'agent_0033972123456_id',
        QueueAgentCalledTime: '1559904740',
        QueueAgentAnsweredTime: '1559904745',
      }),
    ) as OvhQueueEvent;
    expect(event.agent).toBe('agent_0033972123456_id');
    expect(event.agentNumber?.e164).toBe('+33972123456');
    expect(event.agentCalledAt?.getTime()).toBe(1559904740000);
    expect(event.agentAnsweredAt?.getTime()).toBe(1559904745000);
    expect(agentNumberOf('agent_0033972123456_12')).toBe('0033972123456');
    expect(agentNumberOf('Agent')).toBeUndefined();
    const unprefixed = ok(queueRaw('agent-offering', { Agent: 'agent_0033972000001_id' })) as OvhQueueEvent;
    expect(unprefixed.agentNumber?.e164).toBe('+33972000001');
  });

  it('reads member-queue-end causes, and treats "0" times as absent', () => {
    const end = ok(
      queueRaw('member-queue-end', {
        QueueCause: 'Cancel',
        QueueCancelReason: 'TIMEOUT',
        QueueMemberLeavingTime: '1559904836',
        QueueAgentAnsweredTime: '0',
      }),
    ) as OvhQueueEvent;
    expect(end.cause).toBe('Cancel');
    expect(end.cancelReason).toBe('TIMEOUT');
    expect(end.leftAt?.getTime()).toBe(1559904836000);
    expect(end.agentAnsweredAt).toBeUndefined();
  });

  it('requires a member uuid (except on members-count) and a queue', () => {
    expect(fail(queueRaw('agent-offering', { QueueMemberUUID: undefined }))).toMatch(/QueueMemberUUID/);
    expect(fail(queueRaw('members-count', { Queue: undefined }, { Ressource: undefined }))).toMatch(
      /no queue/,
    );
    // Queue falls back to Ressource.
    expect((ok(queueRaw('members-count', { Queue: undefined })) as OvhQueueEvent).queue).toBe(
      '0033972999999',
    );
  });
});

describe('normalizeEvent — unknown events', () => {
  it('passes unknown event names through with raw and every key kept', () => {
    const raw = queueRaw('agent-state-change', { State: 'Waiting' }, { Mystery: [1, 2] });
    const event = ok(raw);
    expect(event.kind).toBe('unknown');
    expect(event.name).toBe('agent-state-change');
    expect(event.raw).toBe(raw);
    expect((event.raw.Data as { State: string }).State).toBe('Waiting');
    expect(event.service).toBe('queues');
  });
});
