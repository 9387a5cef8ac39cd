// Mentions: "@name" in a message is marked for everyone, and marked apart
// for the person it names; built of text nodes, so a body's markup stays text.
// A mention of the reader counts apart in the sidebar, and raises a
// notification while the page is hidden (stubbed Notification), or the page
// says why notifications cannot work.

import { assert, assertEqual, joinAs, seeMessage, send, untilInPage } from './client.mjs';

export async function test_a_mention_is_marked_for_all_and_apart_for_the_one_named(t) {
  const server = await t.startServer();
  const alice = await joinAs(t, server, 'alice');
  const bob = await joinAs(t, server, 'bob');

  await send(alice.page, 'hi @bob and @carol, mail x@y.org <b>@bob</b>');
  await seeMessage(bob.page, 'hi @bob and @carol, mail x@y.org <b>@bob</b>');
  await seeMessage(alice.page, 'hi @bob and @carol, mail x@y.org <b>@bob</b>');
  for (const [who, page] of [['alice', alice.page], ['bob', bob.page]]) {
    const marks = page.locator('#messages li.msg[data-id] .body mark.mention');
    assertEqual(await marks.allTextContents(), ['@bob', '@carol', '@bob'], `${who}'s marks`);
    assertEqual(await page.locator('#messages .body b').count(), 0, `HTML in ${who}'s body`);
  }
  assertEqual(await bob.page.locator('.body mark.mention.me').allTextContents(), ['@bob', '@bob'], 'bob\'s own marks');
  assertEqual(await alice.page.locator('.body mark.mention.me').count(), 0, 'alice\'s own marks');
  const look = (loc) => loc.evaluate((m) => getComputedStyle(m).backgroundColor);
  const mine = await look(bob.page.locator('.body mark.mention.me').first());
  const other = await look(bob.page.locator('.body mark.mention:not(.me)').first());
  assert(mine !== other, `bob's mention looks like any other (${mine})`);
  alice.watcher.assertClean('alice\'s page');
  bob.watcher.assertClean('bob\'s page');
}

// A mention of the reader in another room counts apart on its entry (an
// "@" badge beside the unread count); reading the room clears both.
export async function test_a_mention_in_another_room_counts_apart_until_read(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  assertEqual((await t.request(server.url, 'POST', '/api/v1/rooms', { token, body: { name: 'kitchen' } })).status, 201, 'room made');
  const alice = await joinAs(t, server, 'alice');
  const kitchen = alice.page.locator('#rooms button[data-room="kitchen"]');
  await alice.page.locator('#rooms button[data-room="kitchen"][data-ready="true"]').waitFor();
  await t.post(server.url, token, 'kitchen', 'tea, @Alice?');
  await t.post(server.url, token, 'kitchen', 'anyone else: @carol');
  await t.post(server.url, token, 'general', 'no mark here');
  await kitchen.locator('.unread', { hasText: '2' }).waitFor();
  assertEqual(await kitchen.locator('.mentions').textContent(), '@1', 'one mention of alice');
  assertEqual(await kitchen.getAttribute('aria-label'), 'kitchen, 2 unread, 1 for you', 'said in words');
  assertEqual(await alice.page.locator('#rooms button[data-room="general"] .mentions').count(), 0, 'general: none');
  await t.screenshot(alice.page, 'mention-count');
  await kitchen.click();
  await seeMessage(alice.page, 'tea, @Alice?');
  await kitchen.locator('.unread').waitFor({ state: 'detached' });
  assertEqual(await kitchen.locator('.mentions').count(), 0, 'read: the mention count cleared');
  alice.watcher.assertClean('alice\'s page');
}

// A page whose Notification and visibility are stubbed (browser APIs, not
// ours), so that a test can see what the page asks and shows.
// visibilityOnly: the browser's own Notification kept.
const STUB = ({ permission, secure, absent, visibilityOnly }) => {
  window.__shown = [];
  window.__asked = 0;
  window.__visibility = 'visible';
  Object.defineProperty(document, 'visibilityState', { get: () => window.__visibility });
  Object.defineProperty(document, 'hidden', { get: () => window.__visibility === 'hidden' });
  if (visibilityOnly) return;
  if (secure === false) Object.defineProperty(window, 'isSecureContext', { get: () => false });
  if (absent) {
    delete window.Notification;
    return;
  }
  const kept = () => {
    try {
      return sessionStorage.getItem('stub.permission'); // kept over a reload, as a browser keeps it
    } catch {
      return null; // about:blank has no storage (firefox)
    }
  };
  class FakeNotification {
    static permission = kept() || permission;
    static async requestPermission() {
      window.__asked++;
      FakeNotification.permission = 'granted';
      sessionStorage.setItem('stub.permission', 'granted');
      return 'granted';
    }
    constructor(title, options) {
      this.title = title;
      this.options = options;
      window.__shown.push(this);
    }
    close() {}
  }
  window.Notification = FakeNotification;
};

async function stubbedPage(t, server, name, stub) {
  const context = await t.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(STUB, stub);
  return joinAs(t, server, name, { context });
}

// Permission is asked only when the toggle is turned on (a gesture), and
// kept; while the page is hidden a mention raises a notification (room and
// author, the text) and other messages do not; its click opens the room.
export async function test_a_hidden_page_notifies_of_a_mention_and_its_click_opens_the_room(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  await t.request(server.url, 'POST', '/api/v1/rooms', { token, body: { name: 'kitchen' } });
  const { page, watcher } = await stubbedPage(t, server, 'alice', { permission: 'default' });
  await page.locator('#rooms button[data-room="kitchen"][data-ready="true"]').waitFor();
  assertEqual(await page.evaluate(() => window.__asked), 0, 'not asked before a gesture');
  await page.locator('#notify-toggle').check();
  await page.locator('#notify[data-state="on"]').waitFor();
  assertEqual(await page.evaluate(() => window.__asked), 1, 'asked once, on the gesture');

  await page.evaluate(() => { window.__visibility = 'visible'; });
  await t.post(server.url, token, 'kitchen', '@alice seen while looking');
  await page.locator('#rooms button[data-room="kitchen"] .mentions').waitFor();
  await page.evaluate(() => { window.__visibility = 'hidden'; });
  await t.post(server.url, token, 'kitchen', 'nothing for alice');
  await t.post(server.url, token, 'kitchen', `@alice the kettle ${'is on '.repeat(40)}`);
  await page.waitForFunction(() => window.__shown.length > 0);
  await t.post(server.url, token, 'general', 'a marker');
  await page.locator('#messages li.msg', { hasText: 'a marker' }).waitFor();
  const shown = await page.evaluate(() => window.__shown.map((n) => ({ title: n.title, body: n.options.body })));
  assertEqual(shown.length, 1, 'one notification: the mention while hidden');
  assertEqual(shown[0].title, '#kitchen: bob', 'the room and author');
  assert(shown[0].body.startsWith('@alice the kettle is on') && shown[0].body.endsWith('…') && shown[0].body.length === 120,
    `the text, cut: ${shown[0].body}`);

  await page.evaluate(() => { window.__visibility = 'visible'; window.__shown[0].onclick(); });
  await page.locator('#room-title', { hasText: '#kitchen' }).waitFor();
  await page.reload();
  await page.locator('#notify[data-state="on"]').waitFor();
  assertEqual(await page.evaluate(() => window.__asked), 0, 'the choice kept: not asked again');
  watcher.assertClean('the notified page');
}

// Where notifications cannot work the page says why, in words.
export async function test_notifications_say_why_when_unavailable_or_blocked(t) {
  const server = await t.startServer();
  const insecure = await stubbedPage(t, server, 'alice', { secure: false, absent: true });
  await insecure.page.locator('#notify-status', { hasText: 'Notifications need HTTPS: open https://' }).waitFor();
  assert(await insecure.page.locator('#notify-toggle').isDisabled(), 'no toggle to turn on');
  const absent = await stubbedPage(t, server, 'bob', { absent: true });
  await absent.page.locator('#notify-status', { hasText: 'cannot show notifications' }).waitFor();
  const denied = await stubbedPage(t, server, 'carol', { permission: 'denied' });
  await denied.page.locator('#notify-status', { hasText: 'blocked' }).waitFor();
  assert(await denied.page.locator('#notify-toggle').isDisabled(), 'blocked: no toggle');
  for (const [who, p] of [['insecure', insecure], ['absent', absent], ['denied', denied]]) p.watcher.assertClean(who);
}

// Chromium grants the permission through the context: the toggle turns
// notifications on without asking, with the browser's own Notification.
export async function test_a_granted_permission_turns_notifications_on_without_asking(t) {
  if (t.browserName !== 'chromium') return; // firefox has no notifications permission to grant
  const server = await t.startServer();
  const context = await t.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['notifications'] });
  const { page, watcher } = await joinAs(t, server, 'alice', { context });
  assertEqual(await page.evaluate(() => Notification.permission), 'granted', 'granted by the context');
  await page.locator('#notify[data-state="off"]').waitFor();
  await page.locator('#notify-toggle').check();
  await page.locator('#notify[data-state="on"]').waitFor();
  assertEqual(await page.locator('#notify-status').textContent(), '', 'nothing to explain');
  watcher.assertClean('the granted page');
}

// Chrome on Android shows no notification made by a page, only those of a
// service worker: with the permission granted (chromium's context) the
// worker shows the mention, it is read back from the worker's registration,
// and the worker's click handling opens its room in the page.
export async function test_a_mention_is_shown_by_the_service_worker_and_its_click_opens_the_room(t) {
  if (t.browserName !== 'chromium') return; // firefox has no notifications permission to grant
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  await t.request(server.url, 'POST', '/api/v1/rooms', { token, body: { name: 'kitchen' } });
  const context = await t.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['notifications'] });
  await context.addInitScript(STUB, { visibilityOnly: true });
  const { page, watcher } = await joinAs(t, server, 'alice', { context });
  await page.locator('#rooms button[data-room="kitchen"][data-ready="true"]').waitFor();
  await page.locator('#notify-toggle').check();
  await page.locator('#notify[data-state="on"]').waitFor();
  await page.evaluate(() => navigator.serviceWorker.ready);
  const worker = context.serviceWorkers()[0] ?? await context.waitForEvent('serviceworker');

  await page.evaluate(() => { window.__visibility = 'hidden'; });
  await t.post(server.url, token, 'kitchen', '@alice tea is ready');
  const shown = await untilInPage(page, async () => {
    const list = await (await navigator.serviceWorker.ready).getNotifications();
    return list.length && list.map((n) => ({ title: n.title, body: n.body, data: n.data }));
  });
  assertEqual(shown, [{ title: '#kitchen: bob', body: '@alice tea is ready', data: { room: 'kitchen' } }],
    'the worker\'s notifications');
  assertEqual(await page.evaluate(() => window.__shown.length), 0, 'a notification of the page\'s own as well');

  // what the worker's notificationclick does (a click on a system
  // notification is not Playwright's to make)
  await page.evaluate(() => { window.__visibility = 'visible'; });
  await worker.evaluate((data) => openRoomOf(data), { room: 'kitchen' });
  await page.locator('#room-title', { hasText: '#kitchen' }).waitFor();
  watcher.assertClean('the notified page');
}
