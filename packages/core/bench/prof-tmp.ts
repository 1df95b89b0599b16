import { createDeduplicator, normalizeEvent, parseEnvelope } from '@cti-bridge/core';
import { createScenario, toOvhEnvelopeJson } from '@cti-bridge/core/testing';

function buildCorpus(targetEvents: number): { bodies: string[]; events: number } {
  const lines = Array.from({ length: 20 }, (_, i) => `09721234${String(i).padStart(2, '0')}`);
  const callers = Array.from({ length: 500 }, (_, i) => `06${String(10_000_000 + i * 7919).slice(-8)}`);
  const bodies: string[] = [];
  let total = 0;
  let call = 0;
  let seed = 1;
  while (total < targetEvents) {
    const token = `FFFFFFFF-0000-4000-8000-${String(seed % 10).padStart(12, '0')}`;
    const scenario = createScenario({ token, seed: seed++ });
    for (let i = 0; i < 40; i++, call++) {
      const from = callers[call % callers.length] as string;
      const to = lines[call % lines.length] as string;
      switch (call % 6) {
        case 0:
          scenario.inboundAnswered({
            from,
            to,
            ringSeconds: 4,
            talkSeconds: 120,
            holdSeconds: call % 12 === 0 ? 20 : 0,
          });
          break;
        case 1:
          scenario.inboundMissed({ from, to, ringSeconds: 25 });
          break;
        case 2:
          scenario.outbound({ from: to, to: from, ringSeconds: 6, talkSeconds: call % 4 === 0 ? 0 : 90 });
          break;
        case 3:
          scenario.hunting({
            from,
            lines: lines.slice(0, 3),
            answeredBy: lines[1] as string,
            ringSeconds: 5,
            talkSeconds: 60,
            sharedCallId: call % 2 === 0,
          });
          break;
        case 4:
          scenario.queueAnswered({
            queue: '0972999999',
            caller: from,
            agents: lines.slice(3, 6),
            answeredBy: lines[4] as string,
            waitSeconds: 15,
            talkSeconds: 200,
            withLineEvents: true,
          });
          break;
        default:
          scenario.queueAbandoned({
            queue: '0972999999',
            caller: from,
            agents: lines.slice(3, 5),
            waitSeconds: 40,
          });
      }
    }
    const events = scenario.events();
    // Bodies of 1 to 8 events, as polls deliver them.
    for (let i = 0; i < events.length; ) {
      const size = 1 + ((i * 7) % 8);
      const batch = events.slice(i, i + size);
      bodies.push(toOvhEnvelopeJson(`session-${seed}`, batch));
      total += batch.length;
      i += size;
    }
  }
  return { bodies, events: total };
}
function pipeline(bodies: readonly string[]): number {
  const deduper = createDeduplicator(10_000);
  let delivered = 0;
  for (const body of bodies) {
    const parsed = parseEnvelope(body);
    if (!parsed.ok) throw new Error(parsed.error);
    for (const raw of parsed.envelope.events) {
      const result = normalizeEvent(raw, { token: 'bench', defaultCountry: 'FR' });
      if (!result.ok) throw new Error(result.error);
      if (!deduper.seen(result.event)) delivered++;
    }
  }
  return delivered;
}
function bare(bodies: readonly string[]): number {
  let c = 0;
  for (const b of bodies) c += (JSON.parse(b) as { Events: unknown[] }).Events.length;
  return c;
}
const { bodies } = buildCorpus(50_000);
const mode = process.argv[2] ?? 'both';
for (let i = 0; i < 3; i++) {
  pipeline(bodies);
  bare(bodies);
}
const ratios: number[] = [];
for (let r = 0; r < 15; r++) {
  let t = performance.now();
  if (mode !== 'ours') bare(bodies);
  const b = performance.now() - t;
  t = performance.now();
  if (mode !== 'bare') pipeline(bodies);
  const o = performance.now() - t;
  ratios.push(b / o);
  if (mode === 'both') console.log(b.toFixed(1), o.toFixed(1), (b / o).toFixed(3));
}
ratios.sort();
console.log('median', ratios[7]);
