import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalAuthServer } from '../../lib/auth/local/local-auth-server.js';
import { silentLogger } from '../../lib/core/logger.js';
import { MIDCTL } from '../support/cli.js';
import type { CommandResult } from '../support/run-command.js';

/**
 * `midctl auth start` on a database it cannot use: another process holds the write lock, or the file
 * cannot be written by the user running the service. Either way the service does not start half way:
 * it exits 1 with one `ERROR:` line that names the database file and what to do.
 */
const runningAsRoot = process.getuid?.() === 0;
// Root ignores file modes, so the read-only case runs midctl as `nobody` when the tests run as root.
const NOBODY = 65534;

function authStart(dataDir: string, asUser?: number): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [MIDCTL, '--data-dir', dataDir, 'auth', 'start', '--listen', '127.0.0.1:0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmpdir() },
        ...(asUser === undefined ? {} : { uid: asUser, gid: asUser }),
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // A service that did start would run until stopped: give up well after the 5 s lock timeout.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut: signal === 'SIGKILL' });
    });
  });
}

/** Every stored item with its revision: any write would change a revision or add a row. */
function storedState(database: string): unknown[] {
  const db = new Database(database, { readonly: true });
  try {
    return db.prepare('SELECT key, revision FROM items ORDER BY key').all();
  } finally {
    db.close();
  }
}

function errorLines(result: CommandResult): string[] {
  return `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
}

describe.concurrent('midctl auth start on an unusable database', () => {
  const dirs: string[] = [];
  /** A data directory a previous run of the service initialised (CAs, admin credential, state.db). */
  async function initialisedDataDir(): Promise<string> {
    const root = mkdtempSync(join(tmpdir(), 'mid-security-db-'));
    dirs.push(root);
    const dataDir = join(root, 'data');
    const server = await startLocalAuthServer({ dataDir, port: 0, logger: silentLogger, iamJoin: false });
    await server.close();
    // Gone, so that finding it again would mean the failed start wrote it.
    rmSync(join(dataDir, 'auth-server.json'));
    return dataDir;
  }

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 1 with one ERROR line naming the file when another process holds the write lock', async () => {
    const dataDir = await initialisedDataDir();
    const database = join(dataDir, 'state.db');
    const before = storedState(database);
    const holder = new Database(database);
    holder.exec('BEGIN EXCLUSIVE');
    let result: CommandResult;
    try {
      result = await authStart(dataDir);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(1);
    const lines = errorLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^ERROR: The auth database ${database.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} stayed locked by another connection for 5000 ms\\. .*retry, or stop that process\\.$`,
      ),
    );
    // Nothing was started and nothing changed: no address file for midctl to find, the same items.
    expect(readdirSync(dataDir)).not.toContain('auth-server.json');
    expect(storedState(database)).toEqual(before);
  });

  it('exits 1 with one ERROR line naming the file when the database cannot be written', async () => {
    const dataDir = await initialisedDataDir();
    const database = join(dataDir, 'state.db');
    const before = storedState(database);
    let user: number | undefined;
    if (runningAsRoot) {
      // The service user owns its data directory and its files (a file of another user's there is
      // refused before the database is opened), but the database is read-only.
      chownSync(join(dataDir, '..'), NOBODY, NOBODY);
      for (const entry of readdirSync(dataDir, { recursive: true, encoding: 'utf8' })) {
        chownSync(join(dataDir, entry), NOBODY, NOBODY);
      }
      chownSync(dataDir, NOBODY, NOBODY);
      user = NOBODY;
    }
    chmodSync(database, 0o400);
    const result = await authStart(dataDir, user);
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(1);
    const lines = errorLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^ERROR: The auth database \S+ cannot be written \(.+\)\. Make the file and its folder/,
    );
    expect(lines[0]).toContain(database);
    expect(readdirSync(dataDir)).not.toContain('auth-server.json');
    expect(storedState(database)).toEqual(before);
  });
});
