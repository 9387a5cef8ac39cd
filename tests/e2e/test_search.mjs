// Search in the page (feature search): the sidebar's box finds messages of
// every room, newest first, with their room and time; the words are marked
// as text (a body's markup stays text); a result opens its room at that
// message, marked, with newer pages on the way down to the live end; a search
// the server refuses says why; older results on demand; on a phone the
// drawer closes on the room. Without the feature the box is not there
// (test_page.mjs, the minimal build).

import { PHONE, assert, assertEqual, joinAs, messagesWith, seeMessage, shownBodies } from './client.mjs';

export async function test_search_finds_messages_of_every_room_and_opens_one(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  const rooms = await t.request(server.url, 'POST', '/api/v1/rooms', { token, body: { name: 'kitchen' } });
  assertEqual(rooms.status, 201, 'room kitchen made');
  await t.post(server.url, token, 'general', 'the quick brown fox');
  await t.post(server.url, token, 'general', 'a lazy dog');
  await t.post(server.url, token, 'kitchen', 'Fox <img src=x onerror=alert(1)> in the kitchen');

  const { page, watcher } = await joinAs(t, server, 'alice');
  await seeMessage(page, 'a lazy dog');
  await page.locator('#search-input').fill('fox');
  await page.locator('#search-submit').click();
  const hits = page.locator('#search-results .search-hit');
  await page.locator('#search-status', { hasText: '2 found' }).waitFor();
  assertEqual(await hits.count(), 2, 'two results');
  assertEqual(await hits.evaluateAll((b) => b.map((x) => x.dataset.room)), ['kitchen', 'general'],
    'newest first, each with its room');
  assertEqual(await hits.first().locator('.room-name').textContent(), '#kitchen', 'the room shown');
  assert(await hits.first().locator('time').getAttribute('datetime'), 'the time shown');
  assertEqual(await hits.locator('mark').allTextContents(), ['Fox', 'fox'], 'the words marked');
  assertEqual(await hits.first().locator('.body').textContent(),
    'Fox <img src=x onerror=alert(1)> in the kitchen', 'the body as text');
  assertEqual(await page.locator('#search-results img').count(), 0, 'no markup from a body');
  await t.screenshot(page, 'search-results');

  await hits.first().click();
  await page.locator('#room-title', { hasText: '#kitchen' }).waitFor();
  await seeMessage(page, 'Fox <img src=x onerror=alert(1)> in the kitchen');
  watcher.assertClean('the searching page');

  await page.locator('#search-input').fill('fox AND');
  await page.locator('#search-submit').click();
  await page.locator('#search-error', { hasText: 'not a valid search' }).waitFor();
  assertEqual(await page.locator('#search-input').getAttribute('aria-invalid'), 'true', 'the box marked');
  assert(!watcher.dialogs.length, `dialogs: ${watcher.dialogs}`);
}

export async function test_search_pages_back_to_older_results(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  for (let i = 1; i <= 25; i++) await t.post(server.url, token, 'general', `needle ${i}`);
  const { page, watcher } = await joinAs(t, server, 'alice');
  await page.locator('#search-input').fill('needle');
  await page.locator('#search-submit').click();
  await page.locator('#search-status', { hasText: '20+ found' }).waitFor();
  await page.locator('#search-more').click();
  await page.locator('#search-status', { hasText: '25 found' }).waitFor();
  assert(await page.locator('#search-more').isHidden(), 'no more after the last page');
  const bodies = await page.locator('#search-results .search-hit .body').allTextContents();
  assertEqual(bodies, Array.from({ length: 25 }, (_, i) => `needle ${25 - i}`), 'every result once, newest first');
  watcher.assertClean('the paging search');
}

// On a phone the search is in the drawer; a result closes it on its room.
export async function test_search_on_a_phone_opens_the_room_and_closes_the_drawer(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  await t.request(server.url, 'POST', '/api/v1/rooms', { token, body: { name: 'garden' } });
  await t.post(server.url, token, 'garden', 'tomatoes are ripe');
  const { page, watcher } = await joinAs(t, server, 'alice', { viewport: PHONE });
  await page.locator('#menu-button').click();
  await page.locator('#search-input').fill('tomato*');
  await page.locator('#search-input').press('Enter');
  await page.locator('#search-results .search-hit[data-room="garden"]').click();
  await page.locator('#room-title', { hasText: '#garden' }).waitFor();
  await seeMessage(page, 'tomatoes are ripe');
  assertEqual(await page.locator('#menu-button').getAttribute('aria-expanded'), 'false', 'the drawer closed');
  watcher.assertClean('the phone search');
}

// A result far back opens its room at that message: the history around it
// loaded, the message in view and marked; scrolling down brings the newer
// pages until the newest, and the live view goes on from there.
export async function test_search_result_opens_its_room_at_an_old_message(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  const N = 130; // more than two pages of 50 after the one searched for
  for (let i = 1; i <= N; i++) await t.post(server.url, token, 'general', i === 3 ? 'the early bird' : `filler ${i}`);
  const { page, watcher } = await joinAs(t, server, 'alice', { viewport: { width: 1000, height: 700 } });
  await seeMessage(page, `filler ${N}`);
  assertEqual(await messagesWith(page, 'the early bird').count(), 0, 'not loaded at first');
  await page.locator('#search-input').fill('early');
  await page.locator('#search-submit').click();
  await page.locator('#search-results .search-hit').first().click();
  const bird = await seeMessage(page, 'the early bird');
  await page.locator('#messages li.msg.highlight', { hasText: 'the early bird' }).waitFor();
  const inView = await bird.first().evaluate((li) => {
    const box = document.getElementById('messages').getBoundingClientRect();
    const r = li.getBoundingClientRect();
    return r.top >= box.top && r.bottom <= box.bottom;
  });
  assert(inView, 'the message is scrolled into view');
  assertEqual(await messagesWith(page, `filler ${N}`).count(), 0, 'the newest wait past the gap');
  await page.locator('#messages .history-edge.newer').waitFor();
  await t.screenshot(page, 'search-opens-at-message');
  await page.locator('#messages li.msg.highlight').waitFor({ state: 'detached', timeout: 5000 });

  // Down to the newest, a page at a time.
  for (let i = 0; i < 10 && await page.locator('#messages .history-edge.newer').count(); i++) {
    await page.locator('#messages').evaluate((box) => { box.scrollTop = box.scrollHeight; });
    await page.waitForTimeout(300);
  }
  await seeMessage(page, `filler ${N}`);
  assertEqual(await page.locator('#messages .history-edge.newer').count(), 0, 'no gap left');
  const bodies = await shownBodies(page);
  assertEqual(bodies.slice(-(N - 3)), Array.from({ length: N - 3 }, (_, i) => `filler ${i + 4}`), 'every message once, in order');
  await t.post(server.url, token, 'general', 'live again');
  await seeMessage(page, 'live again');
  watcher.assertClean('the page opened at a message');
}
