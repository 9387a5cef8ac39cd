#!/usr/bin/env node
// Runs every exported async function test_* of tests/e2e/test_*.mjs (files and
// functions sorted by name), one after another, against the real lanchat
// binary in a browser from Debian's packages (playwright-core, headless):
// chromium (the default) or firefox-esr (--browser firefox).
//
//   node tests/e2e/run.mjs [--bin PATH] [--browser chromium|firefox] [-k SUBSTRING]
//                          [--timeout SECONDS] [--suite NAME]
//
// -k runs the tests whose function or file name contains SUBSTRING; --bin
// defaults to $LANCHAT_BIN, else build/desktop/lanchat.
// Each test is `export async function test_<behaviour>(t)`, where t has
//   name, bin, browser, browserName, repo
//   startServer({args, tls}) -> lib.startServer's server, of the --bin binary
//   newContext(options) / newPage(options)   a fresh browser context (and page)
//   screenshot(page, name), watchErrors(page), request, login, post, history
//                                            (lib.mjs)
// The servers and browser contexts a test opens are closed after it, pass,
// fail or time out (default 60 s, or the function's own `timeout` property in
// seconds when that is longer: a timeout fails the test); a promise it
// leaves rejected unawaited fails it too. One browser serves the whole run.
// Prints "ok   <name> (1.2 s)" or "FAIL <name>: <error>" with the stack and
// the server log tails, and ends with "e2e: N passed, M failed" (chromium)
// or "e2e-firefox: N passed, M failed" (--suite NAME names it otherwise);
// exit status 1 if M > 0. Screenshots of a failed test's pages go to
// build/e2e/FAIL-<name>-<n>.png.

import { accessSync, constants, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as lib from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_BIN = join(lib.REPO, 'build', 'desktop', 'lanchat');
const CLEANUP_TIMEOUT_MS = 15_000;

function usage(msg) {
  if (msg) console.error(`run.mjs: ${msg}`);
  console.error('usage: node tests/e2e/run.mjs [--bin PATH] [--browser chromium|firefox] [-k SUBSTRING]'
    + ' [--timeout SECONDS] [--suite NAME]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    bin: process.env.LANCHAT_BIN || DEFAULT_BIN, pattern: '', timeout: 60, browser: 'chromium', suite: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--bin') o.bin = value();
    else if (a === '-k') o.pattern = value();
    else if (a === '--browser') o.browser = value();
    else if (a === '--timeout') o.timeout = Number(value());
    else if (a === '--suite') o.suite = value();
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!(o.timeout > 0)) usage('--timeout must be a positive number of seconds');
  if (!lib.BROWSERS[o.browser]) usage(`--browser must be one of ${Object.keys(lib.BROWSERS).join(', ')}`);
  o.bin = resolve(o.bin);
  return o;
}

// Resolves to fn()'s value, or to `fallback` after ms (for cleanups that must not hang).
async function bounded(ms, fallback, fn) {
  let timer;
  const late = new Promise((res) => (timer = setTimeout(() => res(fallback), ms)));
  try {
    return await Promise.race([Promise.resolve().then(fn), late]);
  } finally {
    clearTimeout(timer);
  }
}

function indent(text) {
  return String(text).replace(/^/gm, '    ');
}

// A line "e2e: 0 passed, 1 failed" for a run that could not start.
function cannotRun(msg) {
  console.log(`${SUITE}: ${msg}`);
  console.log(`${SUITE}: 0 passed, 1 failed`);
  process.exit(1);
}

const opts = parseArgs(process.argv.slice(2));
const BROWSER = lib.BROWSERS[opts.browser];
const SUITE = opts.suite || (opts.browser === 'chromium' ? 'e2e' : `e2e-${opts.browser}`);
process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';

try {
  accessSync(opts.bin, constants.X_OK);
} catch {
  cannotRun(`no executable lanchat binary at ${opts.bin} (use --bin)`);
}
try {
  accessSync(BROWSER.executablePath, constants.X_OK);
} catch {
  cannotRun(`no ${BROWSER.executablePath}: tools/deps.sh e2e installs Debian's ${BROWSER.package}`);
}
try {
  await import('playwright-core');
} catch (e) {
  cannotRun(`cannot load playwright-core (${e.code || e.message}): tools/deps.sh e2e runs npm ci`);
}

// ------------------------------------------------------------------ state
let browser = null;
let current = null; // the running test's {name, servers, contexts, stray, over}
let interrupted = false;
const closing = []; // servers being closed
const unclean = []; // warnings about them

process.on('unhandledRejection', (err) => {
  // A promise a test forgot to await: it fails that test, not the run.
  if (current) current.stray.push(err);
  else console.log(`# warning: unhandled rejection outside a test: ${err?.stack || err}`);
});

async function getBrowser() {
  if (browser && browser.isConnected()) return browser;
  browser = await lib.launchBrowser({
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false, // we clean up ourselves
  }, opts.browser);
  return browser;
}

// The context object a test receives.
function makeContext(test) {
  const t = {
    name: test.name,
    bin: opts.bin,
    browser,
    browserName: opts.browser,
    repo: lib.REPO,
    /** A server of the --bin binary (o.bin overrides), closed after the test. */
    async startServer(o = {}) {
      if (test.over) throw new Error('startServer after the test ended');
      const s = await lib.startServer({ bin: opts.bin, ...o });
      test.servers.push(s);
      if (test.over) {
        await s.close();
        throw new Error('startServer after the test ended');
      }
      return s;
    },
    /** A fresh browser context (own cookies and storage), closed after the test. */
    async newContext(o = {}) {
      if (test.over) throw new Error('newContext after the test ended');
      const c = await browser.newContext(o);
      test.contexts.push(c);
      if (test.over) {
        await c.close();
        throw new Error('newContext after the test ended');
      }
      return c;
    },
    /** A page in a fresh context. */
    async newPage(o = {}) {
      const c = await t.newContext(o);
      return c.newPage();
    },
    /** lib.screenshot; in another browser than chromium, named "<browser>-<name>". */
    screenshot: (page, name) => lib.screenshot(page, opts.browser === 'chromium' ? name : `${opts.browser}-${name}`),
    watchErrors: lib.watchErrors,
    request: lib.request,
    login: lib.login,
    post: lib.post,
    history: lib.history,
  };
  return t;
}

// Screenshots of a failed test's open pages, then every context and server closed.
async function cleanup(test, failed) {
  const out = [];
  if (failed) {
    let n = 0;
    for (const c of test.contexts) {
      for (const page of c.pages()) {
        const name = `FAIL-${test.name}-${++n}`;
        const path = await bounded(5000, null, () => lib.screenshot(page, name).catch(() => null));
        if (path) out.push(`# screenshot: ${path}`);
      }
    }
    for (const s of test.servers) {
      out.push(`---- server log tail (${s.url}) ----\n${s.logTail(30)}`);
    }
  }
  const contexts = test.contexts.splice(0);
  await Promise.all(contexts.map((c) => bounded(CLEANUP_TIMEOUT_MS, null, () => c.close().catch(() => {}))));
  // Servers take a while to exit after SIGTERM: the next test starts meanwhile,
  // and the run waits for them all (reap()) before its last line.
  for (const s of test.servers.splice(0)) {
    // close() sends SIGTERM (by PID) before its first await.
    closing.push(s.close().then(
      (rc) => rc === 'killed' && unclean.push(`${test.name}: ${s.url} did not exit within 10 s of SIGTERM (killed)`),
      (e) => unclean.push(`${test.name}: ${s.url}: ${e.message}`)));
  }
  return out;
}

async function reap() {
  await Promise.all(closing.splice(0));
}

async function runTest(name, fn) {
  const limit = Math.max(opts.timeout, fn.timeout || 0);
  const test = { name, servers: [], contexts: [], stray: [], over: false };
  current = test;
  const t0 = performance.now();
  let error = null;
  let timer;
  const running = Promise.resolve().then(() => fn(makeContext(test)));
  const timeout = new Promise((_, rej) => {
    timer = setTimeout(() => {
      const e = new Error(`timed out after ${limit} s`);
      e.stack = e.message; // where the timer fired says nothing
      rej(e);
    }, limit * 1000);
  });
  try {
    await Promise.race([running, timeout]);
  } catch (e) {
    error = e ?? new Error(`test threw ${e}`);
  } finally {
    clearTimeout(timer);
  }
  if (!error && test.stray.length) error = test.stray[0];
  test.over = true;
  let notes = await cleanup(test, Boolean(error));
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (error) {
    // A timed-out test may still be running: let it see its pages and servers
    // gone and finish, then close what it opened meanwhile.
    await bounded(CLEANUP_TIMEOUT_MS, null, () => running.catch(() => {}));
    notes = notes.concat(await cleanup(test, false));
  }
  current = null;
  if (error) {
    const msg = error instanceof Error ? error.message : String(error);
    console.log(`FAIL ${name}: ${msg.split('\n')[0]}`);
    console.log(indent(error instanceof Error && error.stack ? error.stack : msg));
    // what Node's fetch saw ("fetch failed" says nothing of it)
    if (error?.cause) console.log(indent(`cause: ${error.cause.stack || error.cause}`));
    for (const n of notes) console.log(n);
  } else {
    console.log(`ok   ${name} (${secs} s)`);
    for (const n of notes) console.log(n);
  }
  return !error;
}

async function shutdown() {
  if (current) {
    current.over = true;
    await cleanup(current, false);
  }
  if (browser) await bounded(CLEANUP_TIMEOUT_MS, null, () => browser.close().catch(() => {}));
  await reap();
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (interrupted) process.exit(130); // second signal: do not wait
    interrupted = true;
    console.log(`${SUITE}: interrupted (${sig})`);
    await shutdown();
    process.exit(130);
  });
}

// ------------------------------------------------------------------ main
let passed = 0;
let failed = 0;
const tests = [];
for (const file of readdirSync(HERE).filter((f) => /^test_.*\.mjs$/.test(f)).sort()) {
  let mod;
  try {
    mod = await import(pathToFileURL(join(HERE, file)).href);
  } catch (e) {
    console.log(`FAIL ${file} (import): ${e.message}`);
    console.log(indent(e.stack || e));
    failed++;
    continue;
  }
  for (const [name, fn] of Object.entries(mod).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!name.startsWith('test_') || typeof fn !== 'function') continue;
    if (opts.pattern && !name.includes(opts.pattern) && !file.includes(opts.pattern)) continue;
    tests.push({ name, fn, file });
  }
}

if (!tests.length && !failed) {
  if (opts.pattern) console.log(`# no test or file name contains ${JSON.stringify(opts.pattern)}`);
  else {
    console.log(`FAIL no test_* functions in ${HERE}/test_*.mjs`);
    failed++;
  }
}

// Failure screenshots are of the last run only.
const shots = join(lib.REPO, 'build', 'e2e');
for (const f of existsSync(shots) ? readdirSync(shots) : []) {
  if (/^FAIL-.*\.png$/.test(f)) rmSync(join(shots, f), { force: true });
}

const tAll = performance.now();
try {
  if (tests.length) {
    try {
      await getBrowser();
      const pw = JSON.parse(readFileSync(join(HERE, 'node_modules/playwright-core/package.json'), 'utf8'));
      console.log(`# ${opts.bin}  ${opts.browser} ${browser.version()}  playwright-core ${pw.version}`);
    } catch (e) {
      console.log(`FAIL launching ${BROWSER.executablePath}: ${e.message}`);
      failed++;
      tests.length = 0;
    }
  }
  for (const { name, fn } of tests) {
    if (interrupted) break;
    try {
      await getBrowser(); // again, should a test have crashed it
    } catch (e) {
      console.log(`FAIL ${name}: cannot launch ${BROWSER.executablePath}: ${e.message}`);
      failed++;
      continue;
    }
    if (await runTest(name, fn)) passed++;
    else failed++;
  }
} finally {
  if (!interrupted) await shutdown();
}
if (interrupted) await new Promise(() => {}); // the signal handler exits
for (const w of unclean) console.log(`# warning: ${w}`);
console.log(`# total ${((performance.now() - tAll) / 1000).toFixed(1)} s`);
console.log(`${SUITE}: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
