/** Result of probing one OVH event token. */
export interface TokenProbe {
  readonly ok: boolean;
  readonly message: string;
}

/**
 * Probes an OVH event token with one long-poll request, waiting at most `timeoutMs`. A poll the
 * server holds open (no event yet) counts as reachable: OVH only holds polls it accepted.
 * Non-200 answers and non-JSON bodies mean the token is probably invalid or expired.
 */
export async function probeToken(baseUrl: string, token: string, timeoutMs: number): Promise<TokenProbe> {
  const url = `${baseUrl.replace(/\/+$/, '')}/?token=${encodeURIComponent(token)}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, { signal: controller.signal, headers: { accept: 'application/json' } });
    const text = await response.text();
    if (!response.ok) {
      return {
        ok: false,
        message: `HTTP ${response.status}: token possibly invalid or expired — check it with \`cti-runner tokens list\``,
      };
    }
    try {
      const body = JSON.parse(text) as { Events?: unknown };
      const count = Array.isArray(body.Events) ? body.Events.length : 0;
      return { ok: true, message: `reachable, ${count} event(s) waiting` };
    } catch {
      return { ok: false, message: 'answered with a non-JSON body: token possibly invalid or expired' };
    }
  } catch (error) {
    if (controller.signal.aborted) {
      return { ok: true, message: `reachable (poll held open ${timeoutMs} ms: no event waiting)` };
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return {
      ok: false,
      message: `unreachable: ${cause?.code ?? cause?.message ?? (error as Error).message} (${new URL(baseUrl).host})`,
    };
  } finally {
    clearTimeout(timer);
  }
}
