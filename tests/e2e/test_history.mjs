// History in the page: the newest messages first, older pages loaded by
// scrolling to the top (before=), in order, without duplicates; the reader
// who scrolled up is not pulled down by new messages.

import { assert, assertEqual, joinAs, seeMessage, shownBodies } from './client.mjs';

const N = 130; // more than two pages of 50
const body = (i) => `m${String(i).padStart(3, '0')}`;

// Scrolls the timeline to its top until the start of the room shows; after
// each page of older messages, the message that was at the top must still be
// in view (they came in above it, the reader's place is kept).
async function scrollToTheStart(page) {
  const edge = page.locator('#messages li.history-edge', { hasText: /^This is the start of #/ });
  for (let pages = 1; (await edge.count()) === 0; pages++) {
    assert(pages <= 20, 'the start of the room never came');
    const count = (await shownBodies(page)).length;
    const top = await page.locator('#messages li.msg[data-id]').first().getAttribute('data-id');
    await page.locator('#messages').evaluate((b) => { b.scrollTop = 0; });
    await page.waitForFunction((n) => document.querySelectorAll('#messages li.msg[data-id]').length > n
      || document.querySelector('#messages li.history-edge').textContent.startsWith('This is the start'), count);
    const kept = await page.locator(`#messages li.msg[data-id="${top}"]`).evaluate((li) => {
      const box = li.closest('ol').getBoundingClientRect();
      const r = li.getBoundingClientRect();
      return r.top >= box.top - 1 && r.top < box.bottom;
    });
    assert(kept, `message ${top} left the view when older ones loaded (page ${pages})`);
  }
}

// Alice, in the page, sees one message; then she leaves the page (pagehide
// saves its cache) and bob says `count` more. Returns her page, not yet back.
async function leaveWhileBobTalks(t, server, count) {
  const token = await t.login(server.url, 'bob');
  const alice = await joinAs(t, server, 'alice');
  await t.post(server.url, token, 'general', 'before leaving');
  await seeMessage(alice.page, 'before leaving');
  await alice.page.goto('about:blank');
  for (let i = 1; i <= count; i++) await t.post(server.url, token, 'general', body(i));
  return alice;
}

export async function test_history_pages_back_to_the_first_message(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  for (let i = 1; i <= N; i++) await t.post(server.url, token, 'general', body(i));

  const { page, watcher } = await joinAs(t, server, 'alice', { viewport: { width: 800, height: 600 } });
  await seeMessage(page, body(N));
  const first = await shownBodies(page);
  assert(first.length < N, `all ${N} messages came at once (${first.length})`);
  assert(!first.includes(body(1)), 'the first message is shown before scrolling');
  // The newest is in view: the timeline starts scrolled to the bottom.
  const gap = await page.locator('#messages').evaluate((b) => b.scrollHeight - b.scrollTop - b.clientHeight);
  assert(gap < 80, `timeline not at the bottom (${gap} px above it)`);

  await scrollToTheStart(page);
  const all = await shownBodies(page);
  assertEqual(all, Array.from({ length: N }, (_, i) => body(i + 1)), 'every message, once, in order');
  watcher.assertClean('the paging page');
}

export async function test_reader_scrolled_up_gets_a_pill_not_a_jump(t) {
  const server = await t.startServer();
  const token = await t.login(server.url, 'bob');
  for (let i = 1; i <= 40; i++) await t.post(server.url, token, 'general', body(i));
  const { page, watcher } = await joinAs(t, server, 'alice', { viewport: { width: 800, height: 500 } });
  await seeMessage(page, body(40));
  const box = page.locator('#messages');
  await box.evaluate((b) => { b.scrollTop = 200; });
  await page.waitForFunction(() => document.getElementById('messages').scrollTop === 200);

  await t.post(server.url, token, 'general', 'something new');
  await seeMessage(page, 'something new');
  const pill = page.locator('#new-pill');
  await pill.waitFor({ state: 'visible' });
  assertEqual(await box.evaluate((b) => b.scrollTop), 200, 'scroll position after a new message');

  await pill.click();
  await pill.waitFor({ state: 'hidden' });
  const gap = await box.evaluate((b) => b.scrollHeight - b.scrollTop - b.clientHeight);
  assert(gap < 80, `the pill did not bring the end into view (${gap} px above it)`);
  watcher.assertClean('the scrolled page');
}

// The page left and came back: the cached messages show, and the join with
// since brings everything said meanwhile - more than the newest page of 50
// that the page also fetches, so a join without since would leave a hole.
export async function test_messages_missed_while_away_come_back_in_order_once(t) {
  const server = await t.startServer();
  const { page, watcher } = await leaveWhileBobTalks(t, server, 80);
  await page.goto(`${server.url}/`);
  await seeMessage(page, 'before leaving');
  await seeMessage(page, body(80));
  assertEqual(await shownBodies(page), ['before leaving', ...Array.from({ length: 80 }, (_, i) => body(i + 1))],
    'the timeline after coming back');
  watcher.assertClean('alice\'s page');
}

// More missed than a join replays (500): the server says "gap", the page
// starts over from the replay, and scrolling up pages back without a hole.
export async function test_more_than_a_replay_missed_pages_back_without_holes(t) {
  const server = await t.startServer();
  const missed = 520;
  const { page, watcher } = await leaveWhileBobTalks(t, server, missed);
  await page.goto(`${server.url}/`);
  await seeMessage(page, body(missed));
  const shown = await shownBodies(page);
  assert(!shown.includes('before leaving') && !shown.includes(body(1)),
    `the oldest messages show before scrolling (${shown.length} shown, first ${shown[0]})`);
  await scrollToTheStart(page);
  assertEqual(await shownBodies(page), ['before leaving', ...Array.from({ length: missed }, (_, i) => body(i + 1))],
    'every message once, in order');
  watcher.assertClean('alice\'s page');
}
