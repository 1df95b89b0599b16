import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); `CTI_CHROMIUM` overrides the path. */
export const CHROMIUM_PATH = process.env.CTI_CHROMIUM ?? '/usr/bin/chromium';

/** The flags the browser tests and the bench launch Chromium with. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A launched Chromium with its own fresh profile, or why there is none. */
export type Chromium =
  | { readonly ok: true; readonly context: BrowserContext; close(): Promise<void> }
  | { readonly ok: false; readonly reason: string };

/**
 * Launches Debian's Chromium through playwright-core with a fresh `--user-data-dir` (a temporary
 * directory, removed on close). Never downloads a browser: without one, says why.
 */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    return { ok: false, reason: `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)` };
  }
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (error) {
    return { ok: false, reason: `playwright-core cannot be loaded: ${String(error)}` };
  }
  const profile = mkdtempSync(join(tmpdir(), 'cti-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1200, height: 800 },
    });
    return {
      ok: true,
      context,
      async close() {
        await context.close().catch(() => {});
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    return {
      ok: false,
      reason: `Chromium at ${CHROMIUM_PATH} did not start: ${String(error).split('\n')[0]}`,
    };
  }
}

/** Records notifications instead of showing them (headless Chromium has no desktop to show them on). */
export const NOTIFICATION_STUB = `
  window.__notifications = [];
  window.__opened = [];
  window.open = (url) => { window.__opened.push(String(url)); return null; };
  class FakeNotification {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) {
      this.title = title; this.options = options || {}; this.onclick = null;
      window.__notifications.push(this);
    }
    close() {}
  }
  window.Notification = FakeNotification;
`;
