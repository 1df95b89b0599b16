import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One file of the board's page, read once at start. */
export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

/** The page's files (`packages/runner/board/`: beside `src/` and `dist/` alike). */
export const BOARD_FILES = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/board.js': { file: 'board.js', type: 'text/javascript; charset=utf-8' },
  '/board.css': { file: 'board.css', type: 'text/css; charset=utf-8' },
} as const;

/** The folder of the page's files. */
export function boardDir(): string {
  return fileURLToPath(new URL('../../board/', import.meta.url));
}

/** Reads the page's files; throws with the folder's path when one is missing (a broken install). */
export function loadBoardFiles(dir = boardDir()): ReadonlyMap<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const [path, { file, type }] of Object.entries(BOARD_FILES)) {
    try {
      files.set(path, { body: readFileSync(`${dir}${file}`), type });
    } catch (error) {
      throw new Error(
        `the live board's page is missing (${dir}${file}): reinstall cti-runner, or set http.board: false (${
          error instanceof Error ? error.message : String(error)
        })`,
      );
    }
  }
  return files;
}

/** Security headers of every board answer: no inline script, nothing from elsewhere, no framing. */
export const BOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};
