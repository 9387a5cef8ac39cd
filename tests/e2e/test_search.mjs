// Search in the page (feature search): the sidebar's box finds messages of
// every room, newest first, with their room and time; the words are marked
// as text (a body's markup stays text); a result opens its room; a search
// the server refuses says why; older results on demand; on a phone the
// drawer closes on the room. Without the feature the box is not there
// (test_page.mjs, the minimal build).

import { PHONE, assert, assertEqual, joinAs, seeMessage } from './client.mjs';

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
