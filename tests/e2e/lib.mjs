// Helpers for lanchat's browser tests (tests/e2e/): the real server binary,
// Debian's chromium driven by playwright-core, REST calls from node, and a
// watcher of the page's console errors. run.mjs uses them to build each test's
// context; a test may also import them directly.
//
// A server runs on 127.0.0.1 with its own temp dir and database. It is started
// with --port 0: the kernel picks a free port and the server names it in its
// "listening on http://127.0.0.1:PORT" log line; then /healthz must answer.
// restart() starts it again on that same port and database. Servers are
// stopped by PID (SIGTERM, then SIGKILL after 10 s).

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = '/usr/bin/chromium';

const READY_RE = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
// restart(): how long to keep trying to bind the old port (TIME_WAIT).
const REBIND_TIMEOUT_MS = 5_000;

// Every server still running; killed when this process exits, whatever the cause.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// ------------------------------------------------------------------ server

// One run of the binary: resolves {port} once the server has logged that it
// listens, rejects with the log tail if it exits (or is silent) first.
function spawnOnce(bin, argv, logLines, logFile) {
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  // 'close': exited and its output read to the end (for the log tail).
  const exited = once(child, 'close').then(([code, signal]) => ({ code, signal }));
  live.add(child);
  exited.then(() => live.delete(child));
  let ready;
  const readyPromise = new Promise((res) => (ready = res));
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      logFile.write(chunk);
      const parts = (partial + chunk).split('\n');
      partial = parts.pop();
      for (const line of parts) {
        logLines.push(line);
        const m = READY_RE.exec(line);
        if (m) ready(Number(m[1]));
      }
    });
  }
  return { child, exited, readyPromise };
}

async function waitHealthy(url, deadline) {
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url + '/healthz', { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
      last = 'HTTP ' + r.status;
    } catch (e) {
      last = String(e.cause?.code || e.message);
    }
    await delay(25);
  }
  throw new Error(`${url}/healthz did not answer 200 (${last})`);
}

// A build with HTTPS (feature "tls") listens on 8443 unless told otherwise:
// tests that do not ask for HTTPS run it with --tls-port 0, so that servers
// in parallel do not meet on one port and plain HTTP is not redirected.
const tlsBuilt = new Map();
function hasTls(bin) {
  if (!tlsBuilt.has(bin)) {
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' });
    tlsBuilt.set(bin, /^features:.* tls\b/m.test(version));
  }
  return tlsBuilt.get(bin);
}

function hasOption(args, name) {
  return args.some((a) => a === name || a.startsWith(name + '='));
}

/**
 * Starts `bin` on 127.0.0.1 with a fresh database and waits until /healthz
 * answers 200. `args` are added to the command line; --listen, --port, --db
 * and --rate-limit (default 0: off) are given unless args name them.
 * Returns {url, port, dbPath, dir, pid, stop(), kill9(), restart(), close(),
 * logTail(n)}; pid is the current process's.
 */
export async function startServer({ bin, args = [] } = {}) {
  if (!bin) throw new Error('startServer: no bin');
  const dir = mkdtempSync(join(tmpdir(), 'lanchat-e2e-'));
  const dbPath = join(dir, 'chat.db');
  const logFile = createWriteStream(join(dir, 'server.log'), { flags: 'a' });
  let logLines = [];
  let run = null; // {child, exited}
  let port = 0;
  let closed = false;

  const argv = (p) => {
    const out = [];
    if (!hasOption(args, '--listen')) out.push('--listen', '127.0.0.1');
    if (!hasOption(args, '--port')) out.push('--port', String(p));
    if (!hasOption(args, '--db')) out.push('--db', dbPath);
    if (!hasOption(args, '--rate-limit')) out.push('--rate-limit', '0');
    if (!hasOption(args, '--tls-port') && hasTls(bin)) out.push('--tls-port', '0');
    return out.concat(args);
  };

  // Starts once on `wanted` (0: any free port). Rejects, with the process
  // gone, if it exits or does not get ready in time.
  async function startOnce(wanted) {
    logLines = [];
    const a = argv(wanted);
    logFile.write(`==== ${bin} ${a.join(' ')}\n`);
    const r = spawnOnce(bin, a, logLines, logFile);
    run = r;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let timer;
    const timeout = new Promise((res) => (timer = setTimeout(() => res(null), READY_TIMEOUT_MS)));
    const got = await Promise.race([
      r.readyPromise.then((p) => ({ port: p })),
      r.exited.then((e) => ({ exit: e })),
      timeout.then(() => ({ silent: true })),
    ]);
    clearTimeout(timer);
    if (got.port) {
      const url = `http://127.0.0.1:${got.port}`;
      try {
        await waitHealthy(url, deadline);
        return got.port;
      } catch (e) {
        await terminate();
        throw new Error(`${e.message}; log:\n${tail(40)}`);
      }
    }
    if (got.silent) await terminate();
    const how = got.exit ? `exited (${got.exit.signal || got.exit.code}) before logging`
                         : `did not log within ${READY_TIMEOUT_MS / 1000} s`;
    const err = new Error(`${bin} ${how} "listening on http://127.0.0.1:PORT"; log:\n${tail(40)}`);
    err.exited = Boolean(got.exit);
    throw err;
  }

  // SIGTERM, up to STOP_TIMEOUT_MS, then SIGKILL. Returns the exit code, the
  // signal name, "killed" (needed SIGKILL) or null (was not running).
  function terminate() {
    if (!run) return Promise.resolve(null);
    run.stopping ??= terminateRun(run);
    return run.stopping;
  }

  async function terminateRun({ child, exited }) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await exited;
      return null;
    }
    process.kill(child.pid, 'SIGTERM');
    let timer;
    const late = new Promise((res) => (timer = setTimeout(() => res(null), STOP_TIMEOUT_MS)));
    const e = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (e) return e.signal || e.code;
    process.kill(child.pid, 'SIGKILL');
    await exited;
    return 'killed';
  }

  function tail(n = 30) {
    return logLines.slice(-n).join('\n');
  }

  try {
    port = await startOnce(0);
  } catch (e) {
    logFile.end();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const server = {
    url: `http://127.0.0.1:${port}`,
    port,
    dbPath,
    dir,
    get pid() {
      return run?.child.pid;
    },
    running() {
      return Boolean(run) && run.child.exitCode === null && run.child.signalCode === null;
    },
    stop: terminate,
    /** SIGKILL now; resolves when the process is gone. */
    async kill9() {
      if (!server.running()) throw new Error('kill9: server is not running');
      process.kill(run.child.pid, 'SIGKILL');
      const e = await run.exited;
      return e.signal || e.code;
    },
    /**
     * Stops the server if it runs (SIGTERM) and starts the same binary on the
     * same port and database; retries while the port cannot be bound yet.
     * Returns the exit status of the stop.
     */
    async restart() {
      if (closed) throw new Error('restart: server is closed');
      const rc = await terminate();
      const deadline = Date.now() + REBIND_TIMEOUT_MS;
      for (;;) {
        try {
          await startOnce(port);
          return rc;
        } catch (e) {
          // An exit before "listening" is most likely the bind failing.
          if (!e.exited || Date.now() > deadline) throw e;
          await delay(100);
        }
      }
    },
    /** Stops the server and removes its temp dir; safe to call twice. */
    async close() {
      if (closed) return null;
      closed = true;
      try {
        return await terminate();
      } finally {
        logFile.end();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    logTail: tail,
  };
  return server;
}

// ------------------------------------------------------------------ browser

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// The browsers the suite runs in, all from Debian's packages: chromium over
// the DevTools protocol, firefox-esr over WebDriver BiDi (playwright-core's
// "moz-firefox" channel: a stock Firefox, not Playwright's patched build).
export const BROWSERS = {
  chromium: { type: 'chromium', executablePath: CHROMIUM, args: CHROMIUM_ARGS, package: 'chromium' },
  firefox: { type: 'firefox', executablePath: '/usr/bin/firefox-esr', channel: 'moz-firefox', package: 'firefox-esr' },
};

/**
 * A browser of BROWSERS (default chromium), headless, through playwright-core
 * (never a downloaded browser). `options` are added to launch()'s.
 */
export async function launchBrowser(options = {}, name = 'chromium') {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  const b = BROWSERS[name];
  if (!b) throw new Error(`unknown browser ${name}`);
  const pw = await import('playwright-core');
  const launch = { executablePath: b.executablePath, headless: true, ...options };
  if (b.args) launch.args = b.args;
  if (b.channel) launch.channel = b.channel;
  return pw[b.type].launch(launch);
}

/** Full-page screenshot to build/e2e/<name>.png (repository root); returns its path. */
export async function screenshot(page, name) {
  const dir = join(REPO, 'build', 'e2e');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Collects the page's console errors and uncaught exceptions from now on.
 * Returns {errors, assertNone(what)}: errors is the live list of strings.
 */
export function watchErrors(page) {
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location();
    const where = loc?.url ? ` (${loc.url}:${loc.lineNumber})` : '';
    errors.push(`console.error: ${msg.text()}${where}`);
  });
  page.on('pageerror', (err) => {
    errors.push(`uncaught: ${err.stack || err.message || err}`);
  });
  return {
    errors,
    assertNone(what = 'the page') {
      if (errors.length) {
        throw new Error(`${what} logged ${errors.length} error(s):\n  ${errors.join('\n  ')}`);
      }
    },
  };
}

// ------------------------------------------------------------------ REST

/**
 * One JSON request: returns {status, headers, body} (body parsed when JSON).
 * `token` is sent as a Bearer token.
 */
export async function request(url, method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const r = await fetch(url + path, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  let parsed = text;
  if ((r.headers.get('content-type') || '').startsWith('application/json')) {
    parsed = JSON.parse(text);
  }
  return { status: r.status, headers: r.headers, body: parsed };
}

function expectStatus(r, want, what) {
  const ok = Array.isArray(want) ? want.includes(r.status) : r.status === want;
  if (!ok) {
    throw new Error(`${what}: expected HTTP ${want}, got ${r.status} ${JSON.stringify(r.body)}`);
  }
  return r.body;
}

/** POST /api/v1/session {"name"[,"password"]}; returns the token. */
export async function login(url, name, password) {
  const body = password === undefined ? { name } : { name, password };
  const r = await request(url, 'POST', '/api/v1/session', { body });
  return expectStatus(r, 201, `login ${name}`).token;
}

/** POST a message to room (201, or 200 for a repeated cid); returns the message. */
export async function post(url, token, room, body, cid) {
  const payload = cid === undefined ? { body } : { body, cid };
  const path = `/api/v1/rooms/${encodeURIComponent(room)}/messages`;
  const r = await request(url, 'POST', path, { token, body: payload });
  return expectStatus(r, [200, 201], `post to ${room}`);
}

/** GET a room's history; params {limit, before, after}; returns {messages, has_more}. */
export async function history(url, token, room, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const qs = q.toString() ? `?${q}` : '';
  const path = `/api/v1/rooms/${encodeURIComponent(room)}/messages${qs}`;
  return expectStatus(await request(url, 'GET', path, { token }), 200, `history of ${room}`);
}
