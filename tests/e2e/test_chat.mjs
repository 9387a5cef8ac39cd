// The chat page with people in it: two browsers chatting, the join screen's
// refusals, sessions across reloads, presence, rooms, deleting, and what a
// message body may not do (run HTML). Every test runs its own server.

import {
  DESKTOP, PHONE, assert, assertEqual, joinAs, linkUp, messagesWith, seeMessage, send, shownBodies, submitJoin,
  watch,
} from './client.mjs';

export async function test_two_people_chat_both_ways_own_messages_distinct(t) {
  const server = await t.startServer();
  const alice = await joinAs(t, server, 'alice');
  const bob = await joinAs(t, server, 'bob');

  await send(alice.page, 'hello bob');
  await seeMessage(bob.page, 'hello bob');
  await send(bob.page, 'hi alice\nsecond line');
  await seeMessage(alice.page, 'hi alice\nsecond line');

  for (const [who, page] of [['alice', alice.page], ['bob', bob.page]]) {
    assertEqual(await shownBodies(page), ['hello bob', 'hi alice\nsecond line'], `${who}'s timeline`);
    const own = page.locator('#messages li.msg.own[data-id]');
    const others = page.locator('#messages li.msg:not(.own)[data-id]');
    assertEqual(await own.count(), 1, `${who}'s own messages`);
    assertEqual(await others.count(), 1, `${who}'s messages of others`);
    assertEqual(await own.locator('.author').textContent(), who, `author on ${who}'s own message`);
    assert(await own.locator('time').count() === 1, `no time on ${who}'s message`);
    // Visibly distinct: the own bubble sits on the right, in another colour.
    const look = (loc) => loc.locator('.bubble').evaluate((b) => {
      const r = b.getBoundingClientRect();
      const box = b.closest('ol').getBoundingClientRect();
      return { colour: getComputedStyle(b).backgroundColor, right: box.right - r.right, left: r.left - box.left };
    });
    const mine = await look(own);
    const theirs = await look(others);
    assert(mine.colour !== theirs.colour, `${who}: own and others' bubbles share colour ${mine.colour}`);
    assert(mine.right < mine.left, `${who}: own bubble not on the right (${JSON.stringify(mine)})`);
    assert(theirs.left < theirs.right, `${who}: others' bubble not on the left (${JSON.stringify(theirs)})`);
  }
  assertEqual(await alice.page.locator('#messages li.msg.own').getAttribute('data-state'), 'sent', 'state of a stored message');
  const day = await alice.page.locator('#messages li.day').allTextContents();
  assertEqual(day, ['Today'], 'day separators');

  // Both messages are stored, once each.
  const token = await t.login(server.url, 'carol');
  const stored = await t.history(server.url, token, 'general');
  assertEqual(stored.messages.map((m) => [m.author, m.body]),
    [['alice', 'hello bob'], ['bob', 'hi alice\nsecond line']], 'stored messages');
  alice.watcher.assertClean('alice\'s page');
  bob.watcher.assertClean('bob\'s page');
}

export async function test_duplicate_name_is_refused_in_words(t) {
  const server = await t.startServer();
  await joinAs(t, server, 'alice');
  const page = await t.newPage({ viewport: PHONE });
  const w = watch(t, page);
  await page.goto(`${server.url}/`);
  await submitJoin(page, 'ALICE');
  const error = page.locator('#login-error');
  await error.filter({ hasText: /already in use/ }).waitFor();
  assert((await error.textContent()).includes('“ALICE”'), `error does not name the name: ${await error.textContent()}`);
  assertEqual(await page.locator('#login-name').getAttribute('aria-invalid'), 'true', 'name field marked invalid');
  assert(await page.locator('#chat').isHidden(), 'the chat opened for a refused name');

  // A malformed name is refused before asking the server.
  await submitJoin(page, 'two words');
  await error.filter({ hasText: /no spaces/ }).waitFor();

  // Another name gets in.
  await submitJoin(page, 'alice2');
  await linkUp(page);
  assertEqual(await page.locator('#me').textContent(), 'alice2', 'name shown after joining');
  w.assertClean('the refused page');
}

export async function test_reload_keeps_the_session_and_logout_ends_it(t) {
  const server = await t.startServer();
  const { page, watcher } = await joinAs(t, server, 'alice');
  await send(page, 'before the reload');
  await seeMessage(page, 'before the reload');

  await page.reload();
  await linkUp(page);
  assert(await page.locator('#login').isHidden(), 'the join screen showed after a reload');
  assertEqual(await page.locator('#me').textContent(), 'alice', 'name after reload');
  await seeMessage(page, 'before the reload');
  assertEqual((await shownBodies(page)).length, 1, 'messages after reload');

  await page.locator('#logout').click();
  await page.locator('#login').waitFor();
  assertEqual(await page.locator('#login-name').inputValue(), '', 'name left in the join form after logout');
  await page.reload();
  await page.locator('#login').waitFor();
  assert(await page.locator('#chat').isHidden(), 'the chat opened after logout and reload');
  // The name is free again.
  await t.login(server.url, 'alice');
  watcher.assertClean('alice\'s page');
}

export async function test_message_text_is_text_never_html(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'mallory');
  const evil = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  const long = `see https://example.com/a_(b)?q=1. and ${'x'.repeat(300)}`;
  await t.post(server.url, token, 'general', evil);
  await t.post(server.url, token, 'general', long);

  const { page, watcher } = await joinAs(t, server, 'alice', { viewport: PHONE });
  await seeMessage(page, evil);
  await seeMessage(page, long);
  assertEqual(await page.locator('#messages img, #messages script').count(), 0, 'elements made from a body');
  const link = page.locator('#messages .body a');
  assertEqual(await link.count(), 1, 'links in the bodies');
  assertEqual(await link.getAttribute('href'), 'https://example.com/a_(b)?q=1', 'href of the link');
  assertEqual(await link.getAttribute('rel'), 'noopener noreferrer', 'rel of the link');
  assertEqual(await link.getAttribute('target'), '_blank', 'target of the link');
  // The 300-character word wraps inside a 360 px wide page.
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    list: document.getElementById('messages').scrollWidth,
    view: document.getElementById('messages').clientWidth,
  }));
  assert(widths.page <= 360 && widths.list <= widths.view, `a long word overflows: ${JSON.stringify(widths)}`);
  watcher.assertClean('the page showing the bodies');
}

export async function test_presence_notices_and_online_list(t) {
  const server = await t.startServer();
  const alice = await joinAs(t, server, 'alice');
  const bob = await joinAs(t, server, 'bob');
  const online = alice.page.locator('#online li');
  await alice.page.locator('#messages li.notice', { hasText: 'bob is online' }).waitFor();
  await online.filter({ hasText: 'bob' }).waitFor();
  assertEqual(await online.allTextContents(), ['alice', 'bob'], 'alice\'s online list');
  assertEqual(await alice.page.locator('#online-count').textContent(), '(2)', 'online count');

  await bob.page.locator('#logout').click();
  await alice.page.locator('#messages li.notice', { hasText: 'bob left' }).waitFor();
  await alice.page.waitForFunction(() => document.querySelectorAll('#online li').length === 1);
  assertEqual(await online.allTextContents(), ['alice'], 'alice\'s online list after bob left');
  alice.watcher.assertClean('alice\'s page');
}

export async function test_delete_own_message_takes_two_clicks_and_leaves_everywhere(t) {
  const server = await t.startServer();
  const alice = await joinAs(t, server, 'alice');
  const bob = await joinAs(t, server, 'bob');
  await send(alice.page, 'oops');
  await send(alice.page, 'keep me');
  await seeMessage(bob.page, 'keep me');
  assertEqual(await bob.page.locator('#messages .act').count(), 0, 'actions on others\' messages');

  const mine = await seeMessage(alice.page, 'oops');
  await mine.locator('button', { hasText: 'Delete' }).click();
  await mine.locator('button', { hasText: 'Really delete?' }).click();
  await messagesWith(bob.page, 'oops').waitFor({ state: 'detached' });
  await messagesWith(alice.page, 'oops').waitFor({ state: 'detached' });
  assertEqual(await shownBodies(bob.page), ['keep me'], 'bob\'s timeline after the delete');
  const token = await t.login(server.url, 'carol');
  assertEqual((await t.history(server.url, token, 'general')).messages.map((m) => m.body), ['keep me'], 'stored');
  alice.watcher.assertClean('alice\'s page');
}

export async function test_rooms_creation_and_unread_counts(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'carol');
  assertEqual((await t.request(server.url, 'POST', '/api/v1/rooms', { token, body: { name: 'games' } })).status, 201,
    'room created over REST');
  const { page, watcher } = await joinAs(t, server, 'alice');
  assertEqual(await page.locator('#rooms .room .name').allTextContents(), ['general', 'games'], 'rooms listed');

  // Caught up with games: what is said there from now on is unread.
  await page.locator('#rooms .room[data-room="games"][data-ready="true"]').waitFor();
  await t.post(server.url, token, 'games', 'anyone for chess?');
  await t.post(server.url, token, 'games', 'or go?');
  const games = page.locator('#rooms .room[data-room="games"]');
  await games.locator('.unread', { hasText: '2' }).waitFor();
  assert(/2 unread/.test(await games.getAttribute('aria-label')), 'unread count not in the label');
  await page.waitForFunction(() => document.title === '(2) lanchat');

  await games.click();
  await seeMessage(page, 'or go?');
  assertEqual(await page.locator('#room-title').textContent(), '#games', 'title of the room');
  await games.locator('.unread').waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.title === 'lanchat');

  // A room made from the page: it opens, and a message goes there.
  await page.locator('#room-name').fill('music');
  await page.locator('#room-form button[type="submit"]').click();
  await page.locator('#room-title', { hasText: '#music' }).waitFor();
  await send(page, 'la la');
  await seeMessage(page, 'la la');
  assertEqual((await t.history(server.url, token, 'music')).messages.map((m) => m.body), ['la la'], 'stored in music');
  await page.locator('#room-name').fill('music');
  await page.locator('#room-form button[type="submit"]').click();
  await page.locator('#room-error', { hasText: 'exists already' }).waitFor();
  watcher.assertClean('alice\'s page');
}

export async function test_keyboard_enter_sends_shift_enter_breaks_and_limit_is_explained(t) {
  const server = await t.startServer();
  const { page, watcher } = await joinAs(t, server, 'alice');
  const input = page.locator('#composer-input');
  await input.click();
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  assertEqual(await input.inputValue(), 'line one\nline two', 'text after Shift+Enter');
  await page.keyboard.press('Enter');
  await seeMessage(page, 'line one\nline two');
  assertEqual(await input.inputValue(), '', 'composer after sending');

  // Over the server's limit: explained, and the text stays to be shortened.
  const big = 'é'.repeat(1001); // 2002 bytes
  await input.fill(big);
  await input.press('Enter');
  await page.locator('#composer-error', { hasText: '2002 bytes' }).waitFor();
  assertEqual(await input.inputValue(), big, 'text kept after the refusal');
  assertEqual((await shownBodies(page)).length, 1, 'messages after the refusal');
  watcher.assertClean('alice\'s page');
}

export async function test_screenshots_of_desktop_and_phone(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  await t.post(server.url, token, 'general', 'Welcome to the workshop chat! The 3D printer is free after 4 pm.');
  const alice = await joinAs(t, server, 'alice', { viewport: DESKTOP });
  await send(alice.page, 'Great, I will print the brackets then. Details: https://example.com/brackets');
  await t.post(server.url, token, 'general', 'ok, see you there');
  await seeMessage(alice.page, 'ok, see you there');
  await t.screenshot(alice.page, 'desktop');

  const phone = await joinAs(t, server, 'carol', { viewport: PHONE });
  await seeMessage(phone.page, 'ok, see you there');
  const sizes = await phone.page.evaluate(() => ({
    width: document.documentElement.scrollWidth,
    composer: document.getElementById('composer').getBoundingClientRect().bottom,
  }));
  assert(sizes.width <= PHONE.width, `the phone view scrolls sideways: ${sizes.width} px`);
  assert(sizes.composer <= PHONE.height + 0.5, `the composer is below the screen: ${sizes.composer}`);
  assert(!(await phone.page.locator('#sidebar').isVisible()), 'the sidebar covers the phone view');
  await t.screenshot(phone.page, 'phone');
  await phone.page.locator('#menu-button').click();
  await phone.page.locator('#online li', { hasText: 'alice' }).waitFor({ state: 'visible' });
  await phone.page.waitForFunction(() => getComputedStyle(document.getElementById('sidebar')).transform === 'none');
  await t.screenshot(phone.page, 'phone-sidebar');
  await phone.page.keyboard.press('Escape');
  assertEqual(await phone.page.locator('#menu-button').getAttribute('aria-expanded'), 'false', 'menu after Escape');

  const login = await t.newPage({ viewport: PHONE });
  await login.goto(`${server.url}/`);
  await login.locator('#login-name').waitFor();
  await t.screenshot(login, 'phone-join');
  alice.watcher.assertClean('alice\'s page');
  phone.watcher.assertClean('carol\'s page');
}

export async function test_register_a_name_then_it_needs_its_password(t) {
  const server = await t.startServer();
  const page = await t.newPage({ viewport: PHONE });
  const w = watch(t, page);
  await page.goto(`${server.url}/`);
  const error = page.locator('#login-error');
  await submitJoin(page, 'dora', { password: 'short', register: true });
  await error.filter({ hasText: 'at least 8 characters' }).waitFor();

  await submitJoin(page, undefined, { password: 'correct horse', register: true });
  await linkUp(page);
  assertEqual(await page.locator('#me').textContent(), 'dora', 'name after registering');
  await page.locator('#logout').click();
  await page.locator('#login').waitFor();

  await submitJoin(page, 'dora');
  await error.filter({ hasText: '“dora” is registered. Type its password' }).waitFor();
  await submitJoin(page, undefined, { password: 'wrong horse' });
  await error.filter({ hasText: 'Wrong password' }).waitFor();
  await submitJoin(page, undefined, { password: 'correct horse' });
  await linkUp(page);
  assertEqual(await page.locator('#me').textContent(), 'dora', 'name after logging in');
  w.assertClean('dora\'s page');
}

export async function test_logout_in_one_tab_ends_the_other_tab_with_a_message(t) {
  const server = await t.startServer();
  const first = await joinAs(t, server, 'alice');
  const second = await first.context.newPage(); // same browser: same cookie
  const w = watch(t, second);
  await second.goto(`${server.url}/`);
  await linkUp(second);
  assertEqual(await second.locator('#me').textContent(), 'alice', 'second tab\'s name');

  await first.page.locator('#logout').click();
  await first.page.locator('#login').waitFor();
  await second.locator('#login-error', { hasText: 'Your session has ended' }).waitFor();
  assertEqual(await second.locator('#login-name').inputValue(), 'alice', 'name offered again');
  assert(await first.page.locator('#login-error').textContent() === '', 'the tab that logged out shows an error');
  first.watcher.assertClean('the first tab');
  w.assertClean('the second tab');
}
