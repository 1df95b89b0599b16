import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The service files of examples/deploy, checked for what a service manager relies on. */
const deploy = fileURLToPath(new URL('../../../examples/deploy/', import.meta.url));
const unitText = readFileSync(join(deploy, 'cti-runner.service'), 'utf8');
const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  bin: Record<string, string>;
};

/** `Key=value` settings of one section of a systemd unit (repeated keys: every value). */
function unitSection(text: string, section: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1] as string;
      continue;
    }
    if (current !== section) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim();
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return settings;
}

/** Dockerfile instructions (continuation lines joined), per stage. */
function dockerStages(text: string): { instruction: string; args: string }[][] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: { instruction: string; args: string }[][] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [instruction = '', ...rest] = line.split(/\s+/);
    const entry = { instruction: instruction.toUpperCase(), args: rest.join(' ') };
    if (entry.instruction === 'FROM') stages.push([]);
    stages.at(-1)?.push(entry);
  }
  return stages;
}

const BIN = Object.keys(pkg.bin)[0] as string;

describe('examples/deploy: the systemd unit', () => {
  const service = unitSection(unitText, 'Service');
  const one = (key: string) => {
    const values = service.get(key) ?? [];
    expect(values, key).toHaveLength(1);
    return values[0] as string;
  };

  it('starts the installed bin (not npx) with `run`, as a non-root user', () => {
    const [command, ...args] = one('ExecStart').split(/\s+/);
    expect(command).toMatch(new RegExp(`^/.+/node_modules/\\.bin/${BIN}$`));
    expect(args[0]).toBe('run');
    expect(one('ExecStart')).not.toMatch(/\bnpx\b|\bnpm\b|\bsh -c\b/);
    expect(one('User')).not.toMatch(/^(root|0)$/);
    expect(service.has('DynamicUser') || one('User') !== '').toBe(true);
  });

  it('stops with SIGTERM and waits longer than the runner’s own bound (shutdown timeout + 5 s)', () => {
    expect(service.get('KillSignal') ?? ['SIGTERM']).toEqual(['SIGTERM']);
    const shutdownMs = Number(/--shutdown-timeout (\d+)/.exec(one('ExecStart'))?.[1] ?? 10_000);
    const stopSec = Number(one('TimeoutStopSec'));
    expect(stopSec * 1000).toBeGreaterThan(shutdownMs + 5000);
    expect(one('StateDirectory')).toBe('cti-runner');
  });

  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  it.skipIf(!analyze)('passes systemd-analyze verify (only the not-yet-installed bin is missing)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cti-unit-'));
    try {
      const file = join(dir, 'cti-runner.service');
      copyFileSync(join(deploy, 'cti-runner.service'), file);
      const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      const problems = `${result.stdout}\n${result.stderr}`
        .split('\n')
        .filter((line) => line.trim() !== '' && !/is not executable: No such file or directory/.test(line));
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('examples/deploy: the Dockerfile', () => {
  const stages = dockerStages(dockerfile);
  const final = stages.at(-1) ?? [];
  const last = (instruction: string) => final.filter((i) => i.instruction === instruction).at(-1)?.args;

  it('runs on a slim Node LTS image', () => {
    const from = final[0]?.args ?? '';
    const major = Number(/^node:(\d+)/.exec(from)?.[1]);
    expect(from).toMatch(/slim/);
    // LTS lines are the even majors, 20 or later.
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(20);
  });

  it('its entry point is the installed bin, in exec form (PID 1 gets SIGTERM), as a non-root user', () => {
    const entrypoint = JSON.parse(last('ENTRYPOINT') ?? 'null') as string[];
    expect(entrypoint[0]).toMatch(new RegExp(`^/.+/node_modules/\\.bin/${BIN}$`));
    const cmd = JSON.parse(last('CMD') ?? '[]') as string[];
    expect(cmd[0]).toBe('run');
    const user = last('USER');
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    // USER comes before ENTRYPOINT takes effect: it is the last USER of the final stage.
    expect(final.findIndex((i) => i.instruction === 'USER')).toBeLessThan(
      final.findIndex((i) => i.instruction === 'ENTRYPOINT'),
    );
  });

  it('keeps the state on a volume', () => {
    const volume = last('VOLUME') ?? '';
    expect(volume).toContain('/var/lib/cti-runner');
    expect(dockerfile).toContain("store: { kind: 'sqlite', path: '/var/lib/cti-runner/cti-bridge.db' }");
  });

  it('its healthcheck asks /readyz, and fails when the runner is not ready', async () => {
    const healthcheck = last('HEALTHCHECK') ?? '';
    const exec = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim()) as string[];
    expect(exec[0]).toBe('node');
    expect(exec.join(' ')).toContain('/readyz');
    let ready = false;
    const paths: string[] = [];
    const server: Server = createServer((request, response) => {
      paths.push(request.url ?? '');
      response.statusCode = ready ? 200 : 503;
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const probe = () =>
      exitCodeOf(
        process.execPath,
        exec.slice(1).map((arg) => arg.replace(':9464/', `:${port}/`)),
      );
    try {
      expect(await probe()).toBe(1);
      ready = true;
      expect(await probe()).toBe(0);
      expect(paths).toEqual(['/readyz', '/readyz']);
    } finally {
      server.close();
    }
  });
});

/** Runs a command without blocking the event loop (the test's server must answer); resolves to its exit code. */
function exitCodeOf(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
