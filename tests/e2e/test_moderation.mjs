// Moderation on the page (feature moderation): an admin (made with
// `lanchat admin add` on the running server's database) has a Delete on
// everyone's message and the admin view; a member has neither. A message an
// admin removes disappears for everyone; a mute is told in words to all,
// and the muted user's post is refused in words; the audit log lists every
// act, newest first, a page at a time ("Older").

import { execFileSync } from 'node:child_process';

import {
  PHONE, assert, assertEqual, joinAs, linkUp, messagesWith, seeMessage, send, submitJoin, untilInPage, watch,
} from './client.mjs';

const PW = 'correct horse';

function features(bin) {
  return execFileSync(bin, ['--version'], { encoding: 'utf8' });
}

// Fails on console errors of the page (watchErrors) but the answers >= 400
// the test asked for (`expected`, a RegExp) and those client.mjs expects.
function assertNoErrorsBut(seen, expected, what) {
  const also = /status of 40[19] |WebSocket connection to .* failed|can.t establish a connection to the server at ws:/;
  const bad = seen.errors.filter((e) => !expected.test(e) && !also.test(e));
  assert(!bad.length, `${what} logged errors:\n  ${bad.join('\n  ')}`);
}

// Registers name, marks it admin from the box, and joins as it.
async function joinAsAdmin(t, server, name) {
  const r = await t.request(server.url, 'POST', '/api/v1/users', { body: { name, password: PW } });
  assertEqual(r.status, 201, 'register the admin');
  execFileSync(t.bin, ['admin', 'add', name, '--db', server.dbPath], { encoding: 'utf8' });
  const context = await t.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const watcher = watch(t, page);
  await page.goto(`${server.url}/`);
  await submitJoin(page, name, { password: PW });
  await linkUp(page);
  await page.locator('#online li.self').waitFor({ state: 'attached' });
  return { page, context, watcher };
}

// Whether the page fetched /js/admin.js, and whether the service worker's
// copy of the shell (once installed: it holds /js/main.js) has it.
const adminScript = (page) => page.evaluate(async () => {
  const fetched = performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname === '/js/admin.js');
  await navigator.serviceWorker.ready;
  let installed = false;
  let cached = false;
  for (const key of await caches.keys()) {
    const cache = await caches.open(key);
    installed ||= Boolean(await cache.match('/js/main.js'));
    cached ||= Boolean(await cache.match('/js/admin.js'));
  }
  return { fetched, installed, cached };
});

export async function test_moderation_an_admin_removes_a_message_for_everyone_and_members_see_no_controls(t) {
  if (!/moderation/.test(features(t.bin))) return; // a build without the feature
  const server = await t.startServer();
  const ada = await joinAsAdmin(t, server, 'ada');
  const bob = await joinAs(t, server, 'bob');

  await send(bob.page, 'a message ada removes');
  await seeMessage(ada.page, 'a message ada removes');
  await send(ada.page, 'ada speaks');
  await seeMessage(bob.page, 'ada speaks');

  // the member: no admin view, and no Delete on ada's message
  assert(await bob.page.locator('#admin-open').isHidden(), 'bob sees the admin view\'s button');
  assertEqual(await messagesWith(bob.page, 'ada speaks').locator('[data-action^="delete-"]').count(), 0,
    'Delete buttons on ada\'s message for bob');
  assertEqual(await bob.page.locator('#admin-users li, #admin-audit li').count(), 0, 'admin lists on bob\'s page');
  // nor its script: not fetched, not in the offline copy (the first visit's budget leaves it out)
  assert(await untilInPage(bob.page, async () => {
    for (const key of await caches.keys()) if (await (await caches.open(key)).match('/js/main.js')) return true;
    return false;
  }), 'the service worker\'s copy of the shell within 10 s');
  assertEqual(await adminScript(bob.page), { fetched: false, installed: true, cached: false }, 'admin.js on bob\'s page');

  // the admin: Delete on bob's message, twice (it asks first)
  const doomed = messagesWith(ada.page, 'a message ada removes');
  await doomed.locator('[data-action^="delete-"]').click();
  await doomed.locator('[data-action^="delete-"]', { hasText: 'Really delete?' }).click();
  await messagesWith(ada.page, 'a message ada removes').waitFor({ state: 'detached' });
  await messagesWith(bob.page, 'a message ada removes').waitFor({ state: 'detached' });

  // the admin view: bob online, the delete in the audit log
  assert(await ada.page.locator('#admin-open').isVisible(), 'ada lacks the admin view\'s button');
  await ada.page.locator('#admin-open').click();
  await ada.page.locator('#admin-audit li[data-action="delete"]', { hasText: 'bob' }).waitFor();
  assertEqual((await adminScript(ada.page)).fetched, true, 'admin.js loaded by ada\'s click');
  const row = ada.page.locator('#admin-users li[data-user="bob"]');
  await row.waitFor();
  assertEqual(await ada.page.locator('#admin-users li[data-user="ada"]').count(), 0, 'ada may act on herself');

  // a mute of 1 hour: told to everyone in words, bob's post refused in words
  await row.locator('select').selectOption('3600');
  await row.locator('[data-action="mute"]').click();
  await ada.page.locator('#admin-status', { hasText: 'bob is muted for 1 hour.' }).waitFor();
  await bob.page.locator('#messages li.notice', { hasText: 'ada muted bob for 1 hour' }).waitFor();
  await ada.page.locator('#admin-audit li[data-action="mute"]', { hasText: 'bob' }).waitFor();
  await send(bob.page, 'said while muted');
  const refused = bob.page.locator('#messages li.msg[data-state="failed"]');
  await refused.locator('.fail', { hasText: 'muted' }).waitFor();
  await row.locator('[data-action="unmute"]').click();
  await bob.page.locator('#messages li.notice', { hasText: 'ada unmuted bob' }).waitFor();

  // a kick: bob's session ends, everyone is told
  await row.locator('[data-action="kick"]').click();
  await ada.page.locator('#admin-status', { hasText: 'bob was removed' }).waitFor();
  await bob.page.locator('#login').waitFor({ state: 'visible' });
  await ada.page.locator('#messages li.notice', { hasText: 'ada removed bob' }).waitFor();
  await row.waitFor({ state: 'detached' }); // bob went offline

  // the backup: a download named by the day, and its audit entry (Debian's
  // firefox under playwright reports no download event: there, the page's word)
  if (t.browserName === 'chromium') {
    const [download] = await Promise.all([
      ada.page.waitForEvent('download'),
      ada.page.locator('#admin-backup').click(),
    ]);
    assert(/^lanchat-\d{4}-\d{2}-\d{2}\.db$/.test(download.suggestedFilename()), `backup named ${download.suggestedFilename()}`);
  } else {
    await ada.page.locator('#admin-backup').click();
  }
  await ada.page.locator('#admin-status', { hasText: /^Backup downloaded: lanchat-\d{4}-\d{2}-\d{2}\.db\.$/ }).waitFor();
  await ada.page.locator('#admin-audit li[data-action="backup"]').waitFor();
  ada.watcher.assertClean('ada\'s page');
}

// two pages and every act: slow under firefox on a shared machine
test_moderation_an_admin_removes_a_message_for_everyone_and_members_see_no_controls.timeout = 150;

export async function test_moderation_a_member_is_refused_in_words_and_never_sees_the_admin_view(t) {
  if (!/moderation/.test(features(t.bin))) return;
  const server = await t.startServer();
  const r = await t.request(server.url, 'POST', '/api/v1/users', { body: { name: 'cy', password: PW } });
  assertEqual(r.status, 201, 'register cy');
  const context = await t.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const seen = t.watchErrors(page);
  await page.goto(`${server.url}/`);
  await submitJoin(page, 'cy', { password: PW });
  await linkUp(page);
  assert(await page.locator('#admin-open').isHidden(), 'a member sees the admin view\'s button');
  // made an admin while logged in: the page learns it at its next session check (a reload)
  execFileSync(t.bin, ['admin', 'add', 'cy', '--db', server.dbPath], { encoding: 'utf8' });
  await page.reload();
  await linkUp(page);
  await page.locator('#admin-open').waitFor({ state: 'visible' });
  // 23 audit entries: a page of 20, newest first, then "Older" for the rest
  for (let i = 0; i < 11; i++) {
    execFileSync(t.bin, ['admin', 'remove', 'cy', '--db', server.dbPath], { encoding: 'utf8' });
    execFileSync(t.bin, ['admin', 'add', 'cy', '--db', server.dbPath], { encoding: 'utf8' });
  }
  await page.locator('#admin-open').click();
  const entries = page.locator('#admin-audit li[data-audit]');
  await entries.nth(19).waitFor();
  assertEqual(await entries.count(), 20, 'entries of the first page');
  assertEqual(await entries.first().getAttribute('data-action'), 'admin_add', 'the newest entry');
  await page.locator('#admin-older').click();
  await entries.nth(22).waitFor();
  assert(await page.locator('#admin-older').isHidden(), '"Older" shown with nothing older');
  const ids = (await entries.evaluateAll((items) => items.map((li) => Number(li.dataset.audit))));
  assertEqual(ids, [...ids].sort((a, b) => b - a), 'entries newest first');
  // removed again while the view is open: the next act is refused in words
  execFileSync(t.bin, ['admin', 'remove', 'cy', '--db', server.dbPath], { encoding: 'utf8' });
  await page.locator('#admin-backup').click();
  await page.locator('#admin-status', { hasText: 'No backup: only an admin may download a backup' }).waitFor();
  // the browser logs each answer >= 400; the refusal of the backup is this test's
  const bad = seen.errors.filter((e) => !/status of 40[13] /.test(e));
  assert(!bad.length, `cy's page logged errors:\n  ${bad.join('\n  ')}`);
}

// Bans and reserved names from the admin view: a name ban ends the user's
// session and refuses their login in words; an address ban is listed; a
// refusal of the server (a bad address, the admin's own) is shown in words;
// a reserved name cannot be registered nor taken as a nickname until it is
// released. Every act is told to everyone in words.
export async function test_moderation_an_admin_bans_and_reserves_names_from_the_admin_view(t) {
  if (!/moderation/.test(features(t.bin))) return;
  const server = await t.startServer();
  const ada = await joinAsAdmin(t, server, 'ada');
  const bob = await joinAs(t, server, 'bob');
  const adaSeen = t.watchErrors(ada.page);
  const bobSeen = t.watchErrors(bob.page);
  const status = ada.page.locator('#admin-status');

  await ada.page.locator('#admin-open').click();
  await ada.page.locator('#admin-bans li.hint', { hasText: 'Nobody is banned.' }).waitFor();
  await ada.page.locator('#admin-reserved li.hint', { hasText: 'No name is reserved.' }).waitFor();

  // a name ban from the online list (it asks first): bob's session ends, his
  // login is refused in words
  const ban = ada.page.locator('#admin-users li[data-user="bob"] [data-action="ban"]');
  await ban.click();
  await ban.filter({ hasText: 'Really ban?' }).click();
  await status.filter({ hasText: 'bob is banned.' }).waitFor();
  await ada.page.locator('#admin-bans li[data-ban="name"][data-value="bob"]', { hasText: 'by ada' }).waitFor();
  await ada.page.locator('#messages li.notice', { hasText: 'ada banned bob' }).waitFor();
  await bob.page.locator('#login').waitFor({ state: 'visible' });
  await submitJoin(bob.page, 'bob');
  await bob.page.locator('#login-error', { hasText: 'that name is banned' }).waitFor();
  await ada.page.locator('#admin-audit li[data-action="ban"]', { hasText: 'bob' }).waitFor();

  // an address ban is listed; the server's refusals are shown in words
  await ada.page.locator('#admin-ban-kind').selectOption('address');
  await ada.page.locator('#admin-ban-value').fill('192.0.2.7');
  await ada.page.locator('#admin-ban-value').press('Enter');
  await status.filter({ hasText: 'The address 192.0.2.7 is banned.' }).waitFor();
  await ada.page.locator('#admin-bans li[data-ban="address"][data-value="192.0.2.7"]').waitFor();
  await ada.page.locator('#admin-ban-value').fill('not-an-address');
  await ada.page.locator('#admin-ban-value').press('Enter');
  await status.filter({ hasText: 'The address not-an-address is not banned: the address must be an IPv4 or IPv6 address' }).waitFor();
  await ada.page.locator('#admin-ban-value').fill('127.0.0.1'); // the admin's own, as the server sees it
  await ada.page.locator('#admin-ban-value').press('Enter');
  await status.filter({ hasText: 'is not banned: an admin cannot do that to themselves' }).waitFor();
  assertEqual(await ada.page.locator('#admin-ban-value').inputValue(), '127.0.0.1', 'the refused value is kept to correct');
  assertEqual(await ada.page.locator('#admin-bans li[data-ban]').count(), 2, 'bans listed');

  // lifted: bob may join again
  await ada.page.locator('#admin-bans li[data-value="bob"] [data-action="unban"]').click();
  await status.filter({ hasText: 'bob is no longer banned.' }).waitFor();
  await ada.page.locator('#admin-bans li[data-value="bob"]').waitFor({ state: 'detached' });
  await ada.page.locator('#messages li.notice', { hasText: 'ada lifted the ban on bob' }).waitFor();
  await submitJoin(bob.page, 'bob');
  await linkUp(bob.page);

  // a reserved name: refused to a registration and to a nickname, in words
  await ada.page.getByLabel('Reserve the name').fill('teacher');
  await ada.page.locator('#admin-reserve-form button[type="submit"]').click();
  await status.filter({ hasText: 'teacher is reserved.' }).waitFor();
  await ada.page.locator('#admin-reserved li[data-reserved="teacher"]', { hasText: 'by ada' }).waitFor();
  await bob.page.locator('#messages li.notice', { hasText: 'ada reserved the name teacher' }).waitFor();
  const context = await t.newContext({ viewport: { width: 1280, height: 800 } });
  const other = await context.newPage();
  const otherWatch = watch(t, other);
  await other.goto(`${server.url}/`);
  await submitJoin(other, 'Teacher', { password: PW, register: true });
  await other.locator('#login-error', { hasText: '“Teacher” is reserved. Pick another name.' }).waitFor();
  await other.locator('#login-password').fill('');
  await submitJoin(other, 'teacher');
  await other.locator('#login-error', { hasText: '“teacher” is reserved. Pick another name.' }).waitFor();
  await ada.page.getByLabel('Reserve the name').fill('teacher');
  await ada.page.getByLabel('Reserve the name').press('Enter'); // again: nothing changes
  await status.filter({ hasText: 'teacher is reserved.' }).waitFor();
  assertEqual(await ada.page.locator('#admin-reserved li[data-reserved]').count(), 1, 'reserved names listed');

  // released: the name may be taken
  await ada.page.locator('#admin-reserved li[data-reserved="teacher"] [data-action="unreserve"]').click();
  await status.filter({ hasText: 'teacher is no longer reserved.' }).waitFor();
  await ada.page.locator('#admin-reserved li.hint', { hasText: 'No name is reserved.' }).waitFor();
  await bob.page.locator('#messages li.notice', { hasText: 'ada released the name teacher' }).waitFor();
  await submitJoin(other, 'teacher');
  await linkUp(other);
  // the refusals this test asked for: two bad bans, bob's banned login
  assertNoErrorsBut(adaSeen, /status of 400 .*\/api\/v1\/admin\/bans:/, 'ada\'s page');
  assertNoErrorsBut(bobSeen, /status of 403 .*\/api\/v1\/session:/, 'bob\'s page');
  otherWatch.assertClean('the page that took teacher');
  assertEqual([...ada.watcher.dialogs, ...bob.watcher.dialogs], [], 'dialogs opened');
}

test_moderation_an_admin_bans_and_reserves_names_from_the_admin_view.timeout = 150;

// A room's topic and read-only flag: set by an admin in the admin view, seen
// live by every member (the topic under the room's name, a marker, and a
// member's composer off with its reason); the admin still posts; cleared,
// the member writes again. A message that reaches the server anyway is
// refused in words. A direct conversation has no settings to edit.
export async function test_moderation_a_topic_and_read_only_room_show_live_to_members(t) {
  if (!/moderation/.test(features(t.bin))) return;
  const server = await t.startServer();
  const ada = await joinAsAdmin(t, server, 'ada');
  const bob = await joinAs(t, server, 'bob');
  const status = ada.page.locator('#admin-status');
  assert(await bob.page.locator('#room-about').isHidden(), 'a room with neither topic nor flag shows a line for them');

  await ada.page.locator('#admin-open').click();
  await ada.page.locator('#admin-room-heading', { hasText: 'This room: #general' }).waitFor();
  await ada.page.getByLabel('Topic').fill('Maths quiz at 10');
  await ada.page.locator('#admin-topic-set').click();
  await status.filter({ hasText: 'The topic of #general is set.' }).waitFor();
  await bob.page.locator('#room-topic', { hasText: 'Maths quiz at 10' }).waitFor();
  await bob.page.locator('#messages li.notice', { hasText: 'ada changed the topic or read-only setting of #general' }).waitFor();
  assert(await bob.page.locator('#room-readonly').isHidden(), 'the read-only marker before the room is read-only');
  assert(await bob.page.locator('#composer-input').isEnabled(), 'bob\'s composer before read-only');

  // read-only: bob's composer off with its reason, ada's on
  await ada.page.getByLabel('Read-only').check();
  await status.filter({ hasText: '#general is read-only: only admins may post.' }).waitFor();
  await bob.page.locator('#room-readonly').waitFor({ state: 'visible' });
  await bob.page.locator('#composer-input:disabled').waitFor();
  assert(await bob.page.locator('#composer-send').isDisabled(), 'bob\'s Send in a read-only room');
  await bob.page.locator('#composer-locked', { hasText: 'only an admin may write here' }).waitFor({ state: 'visible' });
  assert(await ada.page.locator('#composer-input').isEnabled(), 'the admin\'s composer in a read-only room');
  assert(await ada.page.locator('#composer-locked').isHidden(), 'the admin is told the room is locked');
  await t.screenshot(bob.page, 'read-only-member');
  await t.screenshot(ada.page, 'read-only-admin-view');
  await ada.page.locator('#admin-close').click();
  await send(ada.page, 'the admin still speaks');
  await seeMessage(bob.page, 'the admin still speaks');

  // a message that reaches the server anyway (queued before, sent after a
  // reload) is refused in words
  await bob.page.evaluate(() => localStorage.setItem('lanchat.outbox.bob', JSON.stringify([
    { cid: 'c-readonly-1', room: 'general', body: 'queued before', created: Date.now(), state: 'pending', error: null }])));
  await bob.page.reload();
  await linkUp(bob.page);
  await messagesWith(bob.page, 'queued before', 'failed').locator('.fail', { hasText: 'this room is read-only' }).waitFor();
  await bob.page.locator('#room-topic', { hasText: 'Maths quiz at 10' }).waitFor(); // from the hello
  await bob.page.locator('#composer-input:disabled').waitFor();

  // cleared: bob writes again; the topic cleared leaves no line
  await ada.page.locator('#admin-open').click();
  await ada.page.getByLabel('Read-only').uncheck();
  await status.filter({ hasText: 'Everyone may post in #general again.' }).waitFor();
  await bob.page.locator('#composer-input:enabled').waitFor();
  assert(await bob.page.locator('#composer-locked').isHidden(), 'the read-only reason after it was cleared');
  await send(bob.page, 'bob speaks again');
  await seeMessage(ada.page, 'bob speaks again');
  await ada.page.getByLabel('Topic').fill('');
  await ada.page.locator('#admin-topic-set').click();
  await status.filter({ hasText: 'The topic of #general is cleared.' }).waitFor();
  await bob.page.locator('#room-about').waitFor({ state: 'hidden' });

  // a direct conversation: no settings to edit
  await ada.page.locator('#admin-close').click();
  await ada.page.locator('#online button[data-user="bob"]').click();
  await ada.page.locator('#room-title', { hasText: '@bob' }).waitFor();
  await ada.page.locator('#admin-open').click();
  await ada.page.locator('#admin-room-direct').waitFor({ state: 'visible' });
  assert(await ada.page.locator('#admin-room-form').isHidden(), 'room settings in a direct conversation');
  ada.watcher.assertClean('ada\'s page');
  bob.watcher.assertClean('bob\'s page');
}

test_moderation_a_topic_and_read_only_room_show_live_to_members.timeout = 150;

// A topic longer than a phone's line is cut with "…" under the room's name;
// a tap on it shows it whole, a second tap folds it, and a new topic starts
// folded again.
export async function test_moderation_a_long_topic_opens_whole_on_a_tap_on_a_phone(t) {
  if (!/moderation/.test(features(t.bin))) return;
  const server = await t.startServer();
  const r = await t.request(server.url, 'POST', '/api/v1/users', { body: { name: 'ada', password: PW } });
  assertEqual(r.status, 201, 'register the admin');
  execFileSync(t.bin, ['admin', 'add', 'ada', '--db', server.dbPath], { encoding: 'utf8' });
  const token = await t.login(server.url, 'ada', PW);
  const setTopic = async (topic) => assertEqual((await t.request(server.url, 'PATCH', '/api/v1/rooms/general',
    { token, body: { topic } })).status, 204, 'set the topic');
  const long = `Quiz on Friday: ${'fractions, decimals and percentages; '.repeat(4)}bring a calculator`;
  assert(long.length <= 200, `the topic is ${long.length} characters`);

  const { page, watcher } = await joinAs(t, server, 'bob', { viewport: PHONE });
  await setTopic(long);
  const about = page.locator('#room-about');
  await page.locator('#room-topic', { hasText: 'bring a calculator' }).waitFor();
  const shape = () => about.evaluate((e) => ({ cut: e.scrollWidth > e.clientWidth, height: e.clientHeight }));
  // Log out and Send stay on the screen (a long topic once widened the page)
  const onScreen = () => page.evaluate(() => ['logout', 'composer-send'].filter((id) => {
    const box = document.getElementById(id).getBoundingClientRect();
    return box.width > 0 && box.right <= window.innerWidth;
  }));
  const folded = await shape();
  assert(folded.cut, 'the long topic fits a phone\'s line: nothing to open');
  assertEqual(await onScreen(), ['logout', 'composer-send'], 'on the screen under a long topic');
  await t.screenshot(page, 'topic-folded');

  await about.click();
  await page.locator('#room-about[aria-expanded="true"]').waitFor();
  const open = await shape();
  assert(!open.cut && open.height > 2 * folded.height, `the opened topic: ${JSON.stringify({ folded, open })}`);
  assertEqual(await onScreen(), ['logout', 'composer-send'], 'on the screen under an opened topic');
  await t.screenshot(page, 'topic-open');
  await about.click();
  await page.locator('#room-about[aria-expanded="false"]').waitFor();
  assertEqual(await shape(), folded, 'the topic folded again');

  await about.click();
  await page.locator('#room-about[aria-expanded="true"]').waitFor();
  await setTopic(`${long.slice(0, 150)} (moved)`);
  await page.locator('#room-topic', { hasText: '(moved)' }).waitFor();
  assertEqual(await about.getAttribute('aria-expanded'), 'false', 'a new topic opened');
  watcher.assertClean('bob\'s page');
}
