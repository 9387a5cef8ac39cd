// The page when the server goes away: the banner, the outbox (messages typed
// offline, kept across a reload, sent once on reconnect), refused and
// rate-limited messages, and the local cache of history.

import {
  assert, assertEqual, joinAs, linkDown, linkUp, messagesWith, seeMessage, send, shownBodies, watch,
} from './client.mjs';

const outboxOf = (page, user) => page.evaluate((u) => JSON.parse(localStorage.getItem(`lanchat.outbox.${u}`) || '[]'), user);

async function storedBodies(t, server) {
  const token = await t.login(server.url, `reader${Math.floor(Math.random() * 1e6)}`);
  return (await t.history(server.url, token, 'general', { limit: 200 })).messages.map((m) => m.body);
}

export async function test_server_killed_message_typed_offline_arrives_once(t) {
  const server = await t.startServer();
  const bobToken = await t.login(server.url, 'bob');
  const { page, watcher } = await joinAs(t, server, 'alice');
  await send(page, 'before the crash');
  await seeMessage(page, 'before the crash');

  await server.kill9();
  await linkDown(page);
  const banner = page.locator('#conn-banner');
  await banner.waitFor({ state: 'visible' });
  assert((await page.locator('#conn-text').textContent()).startsWith('Reconnecting'), 'banner does not say it reconnects');

  const text = 'typed while the server was down';
  await send(page, text);
  await messagesWith(page, text, 'pending').waitFor();
  await page.locator('#conn-text', { hasText: '1 message waits to be sent' }).waitFor();
  await t.screenshot(page, 'offline');
  assertEqual((await outboxOf(page, 'alice')).map((e) => e.body), [text], 'outbox in local storage');

  await server.restart();
  await linkUp(page, 30_000);
  await banner.waitFor({ state: 'hidden' });
  await seeMessage(page, text);
  assertEqual(await messagesWith(page, text).getAttribute('data-state'), 'sent', 'state after reconnect');
  await t.post(server.url, bobToken, 'general', 'after the restart');
  await seeMessage(page, 'after the restart');

  assertEqual(await shownBodies(page), ['before the crash', text, 'after the restart'], 'timeline: nothing twice');
  assertEqual(await storedBodies(t, server), ['before the crash', text, 'after the restart'], 'stored once each');
  await page.waitForFunction(() => localStorage.getItem('lanchat.outbox.alice') === '[]');
  watcher.assertClean('alice\'s page');
}

export async function test_outbox_and_history_survive_a_reload_while_the_server_is_down(t) {
  const server = await t.startServer();
  const { page, watcher } = await joinAs(t, server, 'alice');
  // The service worker (127.0.0.1 is a secure context) keeps the page itself.
  const sw = await page.evaluate(async () => Boolean((await navigator.serviceWorker.ready).active));
  assert(sw, 'no active service worker');
  // Its cache is named after the server's version of the files and holds
  // every module the page loaded (the list is the server's, not typed in).
  const shell = await page.evaluate(async () => {
    const script = await (await fetch('/sw-files.js')).text();
    const names = await caches.keys();
    const cached = names.length ? (await (await caches.open(names[0])).keys()).map((r) => new URL(r.url).pathname) : [];
    const loaded = performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)
      .filter((p) => p.startsWith('/js/'));
    return { version: /LANCHAT_VERSION = "([0-9a-f]+)"/.exec(script)?.[1], names, cached, loaded };
  });
  assertEqual(shell.names, [`lanchat-shell-${shell.version}`], 'the service worker\'s caches');
  assert(shell.loaded.length >= 10, `modules loaded: ${shell.loaded}`);
  for (const path of ['/', ...shell.loaded]) assert(shell.cached.includes(path), `${path} is not kept offline`);
  const info = await t.request(server.url, 'GET', '/api/v1/server');
  assertEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('lanchat.server'))), info.body,
    'the server\'s limits kept for offline');
  await send(page, 'cached before');
  await seeMessage(page, 'cached before');
  await page.waitForFunction(() => Object.keys(localStorage).some((k) => k.startsWith('lanchat.room.alice.')
    && localStorage.getItem(k).includes('cached before')));

  await server.kill9();
  await linkDown(page);
  await send(page, 'written offline');
  await messagesWith(page, 'written offline', 'pending').waitFor();

  await page.reload(); // the server is down: the shell from the service worker's cache
  await page.locator('#chat').waitFor();
  await seeMessage(page, 'cached before');
  await messagesWith(page, 'written offline', 'pending').waitFor();
  await page.locator('#conn-banner').waitFor({ state: 'visible' });

  await server.restart();
  await linkUp(page, 30_000);
  await seeMessage(page, 'written offline');
  assertEqual(await shownBodies(page), ['cached before', 'written offline'], 'timeline after reconnect');
  assertEqual(await storedBodies(t, server), ['cached before', 'written offline'], 'stored once each');
  watcher.assertClean('alice\'s page');
}

export async function test_refused_message_can_be_edited_retried_or_discarded(t) {
  const server = await t.startServer();
  const { page, watcher } = await joinAs(t, server, 'alice');
  const bell = 'ring\u0007ring'; // a control character: the server refuses it
  await send(page, bell);
  const failed = messagesWith(page, bell, 'failed');
  await failed.waitFor();
  await t.screenshot(page, 'failed');
  assert((await failed.locator('.fail').textContent()).startsWith('Not sent'), 'no reason on the failed message');

  // The entry shown failed before the click is no sign the retry was
  // answered: the stored outbox is. The click's handler stores the entry as
  // pending before click() resolves; the refusal stores it failed again.
  await failed.locator('button', { hasText: 'Retry' }).click();
  await page.waitForFunction((b) => JSON.parse(localStorage.getItem('lanchat.outbox.alice') || '[]')
    .some((e) => e.body === b && e.state === 'failed'), bell);
  await failed.waitFor(); // refused again, still there once
  assertEqual(await failed.count(), 1, 'failed entries after a retry');

  await failed.locator('button', { hasText: 'Edit' }).click();
  await failed.waitFor({ state: 'detached' });
  const input = page.locator('#composer-input');
  assertEqual(await input.inputValue(), bell, 'text back in the composer');
  await input.fill('ring ring');
  await input.press('Enter');
  await seeMessage(page, 'ring ring');

  await send(page, bell);
  await failed.waitFor();
  await failed.locator('button', { hasText: 'Discard' }).click();
  await failed.waitFor({ state: 'detached' });
  assertEqual(await outboxOf(page, 'alice'), [], 'outbox after discarding');
  assertEqual(await storedBodies(t, server), ['ring ring'], 'stored');
  watcher.assertClean('alice\'s page');
}

export async function test_rate_limited_messages_are_sent_again_until_stored(t) {
  const server = await t.startServer({ args: ['--rate-limit', '2:1'] });
  const { page, watcher } = await joinAs(t, server, 'alice');
  const bodies = ['one', 'two', 'three', 'four'];
  for (const b of bodies) await send(page, b);
  for (const b of bodies) await seeMessage(page, b, 20_000);
  assertEqual((await shownBodies(page)).slice().sort(), bodies.slice().sort(), 'shown once each');
  assertEqual((await storedBodies(t, server)).slice().sort(), bodies.slice().sort(), 'stored once each');
  watcher.assertClean('alice\'s page');
}

// Two tabs of one browser share the stored outbox: what each typed offline
// survives the other's saves and a reload, and is stored once.
export async function test_two_tabs_typing_offline_lose_nothing_and_store_once(t) {
  const server = await t.startServer();
  const a = await joinAs(t, server, 'alice');
  const b = await a.context.newPage();
  const wb = watch(t, b);
  await b.goto(`${server.url}/`);
  await linkUp(b);

  await server.kill9();
  await linkDown(a.page);
  await linkDown(b);
  await send(a.page, 'from tab A');
  await messagesWith(a.page, 'from tab A', 'pending').waitFor();
  await send(b, 'from tab B');
  await messagesWith(b, 'from tab B', 'pending').waitFor();
  assertEqual((await outboxOf(b, 'alice')).map((e) => e.body), ['from tab A', 'from tab B'], 'stored outbox');

  await a.page.reload(); // from the service worker's cache: the server is down
  await messagesWith(a.page, 'from tab A', 'pending').waitFor();
  await messagesWith(a.page, 'from tab B', 'pending').waitFor();

  await server.restart();
  for (const page of [a.page, b]) {
    await linkUp(page, 30_000);
    await seeMessage(page, 'from tab A');
    await seeMessage(page, 'from tab B');
  }
  await a.page.waitForFunction(() => localStorage.getItem('lanchat.outbox.alice') === '[]');
  const stored = await storedBodies(t, server); // in the order the tabs got through
  assertEqual(stored.slice().sort(), ['from tab A', 'from tab B'], 'stored once each');
  for (const page of [a.page, b]) assertEqual(await shownBodies(page), stored, 'shown once each');
  a.watcher.assertClean('tab A');
  wb.assertClean('tab B');
}
