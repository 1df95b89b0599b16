import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { EXIT, ExitError } from '../exit-codes.js';

/** A held lock on a SQLite state file. */
export interface StoreLock {
  /** The lock file (`<state file>.lock`). */
  readonly path: string;
  /** Removes the lock file (idempotent; also done when the process exits). */
  release(): void;
}

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/** True when a process with this pid runs on this machine. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    if (typeof info.pid === 'number' && typeof info.host === 'string') {
      return { pid: info.pid, host: info.host, startedAt: String(info.startedAt ?? '') };
    }
  } catch {}
  return undefined;
}

/**
 * Takes the single-runner lock of a SQLite state file: `<file>.lock`, created exclusively, holding
 * the pid, host and start time. A second runner on the same file refuses to start (an
 * {@link ExitError}, exit code 1) instead of polling every token a second time. A lock left by a
 * runner that died (its pid no longer runs on this host) is taken over. The lock is released by
 * {@link StoreLock.release} and when the process exits.
 */
export function acquireStoreLock(file: string, pid: number = process.pid): StoreLock {
  const path = `${file}.lock`;
  const me: LockInfo = { pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(path);
      const stale =
        holder !== undefined && holder.host === me.host && holder.pid !== pid && !alive(holder.pid);
      if (stale || holder?.pid === pid) {
        try {
          unlinkSync(path);
        } catch {}
        continue;
      }
      const who =
        holder === undefined
          ? 'another cti-runner'
          : `another cti-runner (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt})`;
      throw new ExitError(
        EXIT.RUNTIME,
        `${who} already uses the state file ${file}: two runners on one SQLite file would both poll every token. Stop the other runner, give this one its own store.path, or use store kind 'redis' to run several runners together. If no runner is left, delete ${path}.`,
      );
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      if (readLock(path)?.pid === pid) {
        try {
          unlinkSync(path);
        } catch {}
      }
    };
    process.on('exit', release);
    return { path, release };
  }
  throw new ExitError(
    EXIT.RUNTIME,
    `could not take the lock ${path}: another runner took it at the same moment`,
  );
}
