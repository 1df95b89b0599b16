// cti-bridge live board: no dependency, no build step. Every text from the server (caller names,
// companies, queue names, URLs) is untrusted: it only ever reaches the page through textContent,
// attributes set one by one, and links whose URL is checked to be http(s). Nothing uses innerHTML.

(() => {
  const params = new URLSearchParams(location.search);
  const list = (name) =>
    params
      .getAll(name)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
  const filter = { lines: list('line'), agents: list('agent'), queues: list('queue') };
  // Lines whose rings pop a notification: ?follow=…, else the line filter, else every line.
  const followed = list('follow').length > 0 ? list('follow') : filter.lines;

  /** @type {Map<string, any>} */ const calls = new Map();
  /** @type {Map<string, any>} */ const sessions = new Map();
  /** @type {Map<string, any>} */ const queues = new Map();
  let clockOffset = 0; // server clock − browser clock
  const notified = new Set();

  // ---- helpers ---------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  /** Creates an element with text content and attributes (never HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
    }
    return node;
  }
  /** Only http(s) links reach an href: a `javascript:` URL from a CRM is shown as text. */
  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
    } catch {
      return undefined;
    }
  }
  const digits = (s) => String(s || '').replace(/\D/g, '');
  /** Same number in any notation: compare the last 9 digits (national significant number). */
  function sameNumber(a, b) {
    const x = digits(a);
    const y = digits(b);
    if (x.length === 0 || y.length === 0) return String(a) === String(b);
    const n = Math.min(9, x.length, y.length);
    return x.slice(-n) === y.slice(-n);
  }
  const sameAgent = (a, b) => a === b || (digits(a).length > 0 && sameNumber(a, b));
  const now = () => Date.now() + clockOffset;
  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
  }
  // One formatter: toLocaleTimeString would build one per call (slow, on every render of the list).
  const timeFormat = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
  const clockTime = (ms) => timeFormat.format(new Date(ms));
  const agentLabel = (agent) => {
    const m = /^agent_(\d+)_/.exec(agent || '');
    return m ? `+${m[1].replace(/^00/, '')}` : agent;
  };

  // ---- filters ---------------------------------------------------------------------------------
  /** A queue given by number (any notation) or by its label. */
  const queueMatches = (queue, label) =>
    queue !== undefined && filter.queues.some((f) => f === label || sameNumber(f, queue));
  function callShown(call) {
    if (filter.lines.length > 0) {
      const lines = [call.line, ...(call.linesRung || [])];
      if (!filter.lines.some((f) => lines.some((l) => sameNumber(f, l)))) return false;
    }
    if (
      filter.agents.length > 0 &&
      !filter.agents.some((f) => sameAgent(f, call.agent) || sameNumber(f, call.line))
    )
      return false;
    if (filter.queues.length > 0 && !queueMatches(call.queue, call.queueLabel)) return false;
    return true;
  }
  function sessionShown(session) {
    if (filter.queues.length > 0 && !queueMatches(session.queue, session.queueLabel)) return false;
    if (filter.agents.length > 0) {
      const agents = [session.answeredBy, ...(session.agentsOffered || [])];
      if (!filter.agents.some((f) => agents.some((a) => a && sameAgent(f, a)))) return false;
    }
    if (filter.lines.length > 0 && filter.agents.length === 0 && filter.queues.length === 0) return false;
    return true;
  }

  // ---- rendering -------------------------------------------------------------------------------
  function bestName(call) {
    const best = call.matches?.[0];
    if (best) return best.name;
    if (call.callerName) return call.callerName;
    return call.caller === 'withheld' ? 'Withheld number' : call.caller;
  }
  function crmLinks(call) {
    if (!call.matches || call.matches.length === 0) {
      return el('div', { class: 'meta' }, call.lookedUp ? 'Not found in the CRM' : 'Looking up…');
    }
    const ul = el('ul', { class: 'crm' });
    const ambiguous = call.matches.filter((m) => m.ambiguous).length > 1;
    if (ambiguous) ul.append(el('li', { class: 'ambiguous' }, 'Several records match: pick one'));
    for (const match of call.matches) {
      const href = safeUrl(match.url);
      const label = `${match.name}${match.company ? ` · ${match.company}` : ''}`;
      const where = ` — ${match.crm} ${match.recordType}`;
      ul.append(
        el(
          'li',
          {},
          href
            ? el(
                'a',
                {
                  class: 'crm-link',
                  href,
                  target: '_blank',
                  rel: 'noopener noreferrer',
                  'data-crm': match.crm,
                },
                label,
              )
            : el('span', { class: 'crm-link' }, label),
          el('span', { class: 'meta' }, where),
        ),
      );
    }
    return ul;
  }
  function callCard(call) {
    const best = call.matches?.[0];
    const since = call.state === 'ringing' ? call.startedAt : (call.answeredAt ?? call.startedAt);
    const who = [];
    if (call.state !== 'ringing') {
      if (call.agent) who.push(`answered by ${agentLabel(call.agent)}`);
      else who.push(`answered on ${call.lineLabel ? `${call.lineLabel} (${call.line})` : call.line}`);
    }
    if (call.linesRung && call.linesRung.length > 1) who.push(`rang ${call.linesRung.length} lines`);
    if (call.queue) who.push(`via queue ${call.queueLabel || call.queue}`);
    return el(
      'div',
      { class: 'call', 'data-call-id': call.id, 'data-state': call.state },
      el('span', { class: `badge state-${call.state}` }, call.state === 'answered' ? 'talking' : call.state),
      el('span', { class: 'timer', 'data-since': since }, duration(now() - since)),
      el('div', { class: 'who caller-name' }, bestName(call)),
      el(
        'div',
        { class: 'sub' },
        `${call.direction === 'outbound' ? 'to' : 'from'} ${call.caller}${best?.company ? ` · ${best.company}` : ''}`,
      ),
      who.length > 0 ? el('div', { class: 'meta answered-by' }, who.join(' · ')) : null,
      crmLinks(call),
    );
  }
  function renderLines() {
    const byLine = new Map();
    const live = [...calls.values()]
      .filter((c) => c.state !== 'ended' && callShown(c))
      .sort((a, b) => a.startedAt - b.startedAt);
    for (const call of live) {
      const key = call.line;
      if (!byLine.has(key)) byLine.set(key, { label: call.lineLabel, calls: [] });
      byLine.get(key).calls.push(call);
    }
    const box = $('lines');
    const nodes = [];
    for (const [line, group] of byLine) {
      nodes.push(
        el(
          'div',
          { class: 'line', 'data-line': line },
          el('h3', {}, group.label || line, group.label ? el('small', {}, ` ${line}`) : null),
          ...group.calls.map(callCard),
        ),
      );
    }
    box.replaceChildren(...(nodes.length > 0 ? nodes : [el('p', { class: 'empty' }, 'No call right now.')]));
  }
  function renderQueues() {
    const names = new Set([...queues.keys()]);
    const labels = new Map();
    for (const c of queues.values()) if (c.queueLabel) labels.set(c.queue, c.queueLabel);
    for (const s of sessions.values()) {
      names.add(s.queue);
      if (s.queueLabel) labels.set(s.queue, s.queueLabel);
    }
    const nodes = [];
    for (const name of [...names].sort()) {
      const mine = [...sessions.values()].filter((s) => s.queue === name && sessionShown(s));
      const counts = queues.get(name);
      if (filter.queues.length > 0 && !queueMatches(name, labels.get(name))) continue;
      if (mine.length === 0 && (filter.agents.length > 0 || filter.lines.length > 0)) continue;
      const waiting = mine.filter((s) => s.state === 'waiting' || s.state === 'offered');
      const talking = mine.filter((s) => s.state === 'answered');
      nodes.push(
        el(
          'div',
          { class: 'queue', 'data-queue': name },
          el(
            'h3',
            {},
            labels.get(name) || name,
            el(
              'small',
              {},
              ` · today ${counts ? counts.answered : 0} answered, ${counts ? counts.abandoned : 0} abandoned`,
            ),
          ),
          el('div', { class: 'meta' }, waiting.length === 0 ? 'Nobody waiting' : `${waiting.length} waiting`),
          ...waiting.map((s) =>
            el(
              'div',
              { class: 'call', 'data-member': s.memberUuid },
              el('span', { class: 'badge state-ringing' }, 'waiting'),
              el('span', { class: 'timer', 'data-since': s.joinedAt }, duration(now() - s.joinedAt)),
              el('div', { class: 'who caller-name' }, s.callerName || s.caller),
              el('div', { class: 'sub' }, s.caller),
            ),
          ),
          ...talking.map((s) =>
            el(
              'div',
              { class: 'call', 'data-member': s.memberUuid },
              el('span', { class: 'badge state-answered' }, 'on call'),
              el(
                'span',
                { class: 'timer', 'data-since': s.answeredAt ?? s.joinedAt },
                duration(now() - (s.answeredAt ?? s.joinedAt)),
              ),
              el('div', { class: 'who' }, `${agentLabel(s.answeredBy)} with ${s.callerName || s.caller}`),
            ),
          ),
        ),
      );
    }
    $('queues').replaceChildren(
      ...(nodes.length > 0 ? nodes : [el('p', { class: 'empty' }, 'No queue activity today.')]),
    );
  }
  function renderRecent() {
    const ended = [...calls.values()]
      .filter((c) => c.state === 'ended' && callShown(c))
      .sort((a, b) => (b.endedAt ?? b.startedAt) - (a.endedAt ?? a.startedAt));
    const rows = ended.map((call) => {
      const best = call.matches?.[0];
      const href = best ? safeUrl(best.url) : undefined;
      const talk = call.answeredAt && call.endedAt ? duration(call.endedAt - call.answeredAt) : '—';
      const logs = Object.entries(call.logging || {}).map(([crm, status]) =>
        el(
          'span',
          { class: `badge log-${status}`, 'data-crm': crm, 'data-status': status },
          `${crm}: ${status}`,
        ),
      );
      return el(
        'tr',
        { 'data-call-id': call.id },
        el('td', {}, clockTime(call.startedAt)),
        el(
          'td',
          {},
          href
            ? el(
                'a',
                { href, target: '_blank', rel: 'noopener noreferrer', class: 'caller-name' },
                bestName(call),
              )
            : el('span', { class: 'caller-name' }, bestName(call)),
          el('div', { class: 'meta' }, `${call.direction} · ${call.caller}`),
        ),
        el('td', {}, call.lineLabel || call.line),
        el('td', { class: `outcome-${call.outcome || 'unknown'}` }, call.outcome || 'ended'),
        el('td', { class: 'timer' }, talk),
        el('td', { class: 'logging' }, ...(logs.length > 0 ? logs : ['—'])),
      );
    });
    $('recent').tBodies[0].replaceChildren(
      ...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No call yet.'))]),
    );
  }
  let scheduled = false;
  const dirty = { lines: true, queues: true, recent: true };
  function render() {
    scheduled = false;
    if (dirty.lines) renderLines();
    if (dirty.queues) renderQueues();
    if (dirty.recent) renderRecent();
    dirty.lines = dirty.queues = dirty.recent = false;
  }
  /** Renders the changed sections in the next task: a burst of events costs one render. */
  function schedule(...sections) {
    for (const section of sections) dirty[section] = true;
    if (scheduled) return;
    scheduled = true;
    setTimeout(render, 0);
  }
  setInterval(() => {
    const t = now();
    for (const node of document.querySelectorAll('[data-since]')) {
      node.textContent = duration(t - Number(node.getAttribute('data-since')));
    }
  }, 1000);

  // ---- notifications ---------------------------------------------------------------------------
  const canNotify = typeof Notification !== 'undefined';
  const button = $('notify');
  if (canNotify && Notification.permission === 'default') {
    button.hidden = false;
    button.addEventListener('click', () => {
      Notification.requestPermission().then(() => {
        button.hidden = Notification.permission !== 'default';
      });
    });
  }
  function maybeNotify(call) {
    if (!canNotify || Notification.permission !== 'granted') return;
    if (call.state !== 'ringing' || call.direction === 'outbound' || notified.has(call.id)) return;
    if (!call.lookedUp) return; // wait for the screen pop: the notification names the caller
    if (
      followed.length > 0 &&
      ![call.line, ...(call.linesRung || [])].some((l) => followed.some((f) => sameNumber(f, l)))
    )
      return;
    notified.add(call.id);
    const best = call.matches?.[0];
    const n = new Notification(bestName(call), {
      body: [best?.company, `${call.caller} → ${call.lineLabel || call.line}`].filter(Boolean).join('\n'),
      tag: `call-${call.id}`,
    });
    const href = best ? safeUrl(best.url) : undefined;
    n.onclick = () => {
      if (href) window.open(href, '_blank', 'noopener');
      n.close();
    };
  }

  // ---- live updates ----------------------------------------------------------------------------
  const status = $('status');
  const setStatus = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };
  const parts = [];
  if (filter.lines.length > 0) parts.push(`line ${filter.lines.join(', ')}`);
  if (filter.agents.length > 0) parts.push(`agent ${filter.agents.join(', ')}`);
  if (filter.queues.length > 0) parts.push(`queue ${filter.queues.join(', ')}`);
  $('filter').textContent = parts.length > 0 ? `Showing ${parts.join(' · ')}` : '';

  const source = new EventSource('events');
  source.addEventListener('open', () => setStatus('live', 'live'));
  source.addEventListener('error', () => setStatus('reconnecting', 'reconnecting…'));
  source.addEventListener('snapshot', (event) => {
    const snap = JSON.parse(event.data);
    clockOffset = snap.now - Date.now();
    calls.clear();
    sessions.clear();
    queues.clear();
    for (const call of snap.calls) calls.set(call.id, call);
    for (const session of snap.sessions) sessions.set(session.memberUuid, session);
    for (const counts of snap.queues) queues.set(counts.queue, counts);
    setStatus('live', 'live');
    schedule('lines', 'queues', 'recent');
    render();
  });
  source.addEventListener('call', (event) => {
    const { call } = JSON.parse(event.data);
    const before = calls.get(call.id);
    calls.set(call.id, call);
    if (callShown(call)) maybeNotify(call);
    if (call.state === 'ended') schedule(before && before.state === 'ended' ? 'recent' : 'lines', 'recent');
    else schedule('lines');
  });
  source.addEventListener('session', (event) => {
    const { session } = JSON.parse(event.data);
    sessions.set(session.memberUuid, session);
    schedule('queues');
  });
  source.addEventListener('queue', (event) => {
    const { counts } = JSON.parse(event.data);
    queues.set(counts.queue, counts);
    schedule('queues');
  });
  // For tests and the bench: the number of events applied.
  window.__board = { calls, sessions, queues, source };
})();
