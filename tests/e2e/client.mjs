// What the browser tests do with the chat page: join as someone, send,
// wait for messages and for the link, read what is shown. Not a test file
// (run.mjs runs test_*.mjs only).

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

export function assertEqual(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

// Browsers log every answer >= 400 and every refused connection as a console
// error; the page asks GET /api/v1/session expecting 401 before a login, gets
// 409 for a room that exists, and its link retries while the server is down.
// Those are not the page's faults.
const EXPECTED = [
  /Failed to load resource: the server responded with a status of 40[19] /,
  // the trust page asks GET /api/v1/trust, which is 404 without TLS
  /Failed to load resource: the server responded with a status of 404 .*\/api\/v1\/trust:/,
  /Failed to load resource: net::ERR_CONNECTION_REFUSED/,
  /WebSocket connection to .* failed/, // chromium
  /can.t establish a connection to the server at ws:/, // firefox
  // firefox, when a test reloads a page whose link is retrying a server that
  // is down: the reload cuts the attempt short (Firefox delays attempts after
  // failures, so one may be pending)
  /The connection to ws:.* was interrupted while the page was loading/,
  // Firefox reports the <style> playwright adds to take a screenshot (it
  // hides the caret) as the page's CSP violation; chromium lets it through.
  /blocked an inline style \(style-src-elem\)/,
];

// Watches a page: unexpected console errors, uncaught exceptions, dialogs
// (an alert() would mean a script ran that should not have).
export function watch(t, page) {
  const w = t.watchErrors(page);
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return {
    dialogs,
    assertClean(what) {
      const bad = w.errors.filter((e) => !EXPECTED.some((re) => re.test(e)));
      assert(!bad.length, `${what} logged errors:\n  ${bad.join('\n  ')}`);
      assert(!dialogs.length, `${what} opened dialogs: ${dialogs.join('; ')}`);
    },
  };
}

// The first truthy value of an async predicate run in the page, tried every
// 50 ms for at most `timeout` ms (then its last value). waitForFunction is no
// use for these: it takes the Promise itself for a truthy answer.
export async function untilInPage(page, predicate, arg, timeout = 10_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(predicate, arg);
    if (value || Date.now() > end) return value;
    await new Promise((resolve) => { setTimeout(resolve, 50); });
  }
}

// Opens the page in a fresh browser context and joins as `name`; resolves
// when the chat shows and its link is up. Returns {page, context, watcher}.
export async function joinAs(t, server, name, { viewport = DESKTOP, context } = {}) {
  const ctx = context ?? await t.newContext({ viewport });
  const page = await ctx.newPage();
  const watcher = watch(t, page);
  await page.goto(`${server.url}/`);
  await submitJoin(page, name);
  await linkUp(page);
  await page.locator('#online li.self').waitFor({ state: 'attached' }); // the hello frame arrived
  return { page, context: ctx, watcher };
}

// Fills the join form (the password only when given) and presses Join, or
// "Register this name" when `register`.
export async function submitJoin(page, name, { password, register = false } = {}) {
  if (name !== undefined) await page.locator('#login-name').fill(name);
  if (password !== undefined) await page.locator('#login-password').fill(password);
  await page.locator(register ? '#register-submit' : '#login-submit').click();
}

export const linkUp = (page, timeout) => page.locator('#chat[data-link="up"]').waitFor({ timeout });
export const linkDown = (page, timeout) => page.locator('#chat[data-link="down"]').waitFor({ timeout });

// Types text as a person would: Shift+Enter between lines, Enter to send.
export async function send(page, text) {
  const input = page.locator('#composer-input');
  const lines = text.split('\n');
  await input.fill(lines[0]);
  for (const line of lines.slice(1)) {
    await input.press('Shift+Enter');
    await input.pressSequentially(line);
  }
  await input.press('Enter');
}

const exactly = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

// The shown messages (stored ones: state "stored"; or outbox entries: their
// state) whose body is exactly `body`.
export function messagesWith(page, body, state = 'stored') {
  const sel = state === 'stored' ? '#messages li.msg[data-id]' : `#messages li.msg[data-state="${state}"]`;
  return page.locator(sel).filter({ has: page.locator('.body', { hasText: exactly(body) }) });
}

// The stored message with this exact body, once it is shown.
export async function seeMessage(page, body, timeout) {
  const item = messagesWith(page, body);
  await item.first().waitFor({ timeout });
  return item;
}

// Bodies of the stored messages shown, top to bottom.
export function shownBodies(page) {
  return page.locator('#messages li.msg[data-id] .body').allTextContents();
}
