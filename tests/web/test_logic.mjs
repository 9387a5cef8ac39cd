#!/usr/bin/env node
// The page's pure logic, in node without a browser: URLs in a message and
// day labels (web/js/text.js), the server's limits and the checks made with
// them, refusals and frames (rules.js), a room's messages by id (room.js),
// the outbox shared by tabs (outbox.js), and when to notify (notify.js). These modules touch no DOM,
// at import or ever; the page's behaviour in a browser is tests/e2e/'s.
//
//   node tests/web/test_logic.mjs [-k SUBSTRING]
//
// Prints "ok   <test>" or "FAIL <test>: <why>" and ends with
// "web-unit: N passed, M failed"; exit status 1 if M > 0.

import assert from 'node:assert/strict';
import { register } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const WEB_JS = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), '../../web/js')).href + '/';
// web/js/*.js are ES modules with a .js name and no package.json says so:
// loaded as modules whatever node's default (its detection of module syntax
// is recent).
register(`data:text/javascript,${encodeURIComponent(`
import { readFile } from 'node:fs/promises';
export async function load(url, context, next) {
  if (url.startsWith(${JSON.stringify(WEB_JS)}) && url.endsWith('.js')) {
    return { format: 'module', source: await readFile(new URL(url)), shortCircuit: true };
  }
  return next(url, context);
}`)}`);

const text = await import(`${WEB_JS}text.js`);
const rules = await import(`${WEB_JS}rules.js`);
const room = await import(`${WEB_JS}room.js`);
const outbox = await import(`${WEB_JS}outbox.js`);
const notify = await import(`${WEB_JS}notify.js`);

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// ------------------------------------------------------------ text.js
const links = (s) => text.linkParts(s).filter((p) => p.href).map((p) => p.url);
const joined = (parts) => parts.map((p) => p.text ?? p.url).join('');

const marks = (body, q) => text.markParts(body, q).filter((p) => p.mark).map((p) => p.text);

test('search_marks_whole_words_without_case_or_accents_and_keeps_the_text_whole', () => {
  const body = 'Cafe, café and CAFÉS; cafeteria';
  assert.deepEqual(marks(body, 'café'), ['Cafe', 'café']);
  assert.equal(text.markParts(body, 'café').map((p) => p.text).join(''), body);
  assert.deepEqual(marks(body, 'caf*'), ['Cafe', 'café', 'CAFÉS', 'cafeteria']);
  assert.deepEqual(marks('nothing here', 'café'), []);
});

test('search_marks_no_operators_quotes_or_markup_of_the_query', () => {
  assert.deepEqual(marks('fox AND dog or not', 'fox AND "dog"'), ['fox', 'dog']);
  assert.deepEqual(marks('<b>x</b> b', '<b>'), ['b', 'b', 'b']);
  assert.deepEqual(text.markParts('<b>', 'b'), [{ text: '<', mark: false }, { text: 'b', mark: true },
    { text: '>', mark: false }]);
});

test('plain_text_is_one_text_part', () => {
  assert.deepEqual(text.linkParts('no links here'), [{ text: 'no links here' }]);
});

test('urls_become_links_and_the_text_around_them_stays_whole', () => {
  const s = 'see https://example.org/a?b=1 and http://10.0.0.1:8080/x, then stop';
  const parts = text.linkParts(s);
  assert.deepEqual(links(s), ['https://example.org/a?b=1', 'http://10.0.0.1:8080/x']);
  assert.equal(joined(parts), s);
  assert.equal(parts.find((p) => p.href).href, 'https://example.org/a?b=1');
});

test('trailing_punctuation_and_an_unopened_parenthesis_are_not_part_of_a_url', () => {
  assert.deepEqual(links('go to https://example.org.'), ['https://example.org']);
  assert.deepEqual(links('"https://example.org/x!?"'), ['https://example.org/x']);
  assert.deepEqual(links('(see https://example.org/a)'), ['https://example.org/a']);
  assert.deepEqual(links('https://en.wikipedia.org/wiki/Foo_(bar)'), ['https://en.wikipedia.org/wiki/Foo_(bar)']);
  const s = '(see https://example.org/a).';
  assert.equal(joined(text.linkParts(s)), s);
});

test('only_http_and_https_urls_that_parse_are_links', () => {
  assert.deepEqual(links('javascript:alert(1) ftp://x.org file:///etc/passwd'), []);
  assert.deepEqual(links('http://[broken'), []);
  assert.equal(joined(text.linkParts('a http://[broken b')), 'a http://[broken b');
  assert.deepEqual(links('<https://example.org/"q">'), ['https://example.org/']);
});

test('day_labels_say_today_yesterday_else_the_date', () => {
  const now = new Date(2026, 2, 1, 9, 30); // 1 March
  assert.equal(text.dayLabel(new Date(2026, 2, 1, 0, 0), now), 'Today');
  assert.equal(text.dayLabel(new Date(2026, 2, 1, 23, 59), now), 'Today');
  assert.equal(text.dayLabel(new Date(2026, 1, 28, 23, 59), now), 'Yesterday'); // across the month
  const older = new Date(2026, 1, 27, 12, 0);
  assert.equal(text.dayLabel(older, now), older.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long' }));
  assert.ok(!text.dayLabel(older, now).includes('2026'), 'this year is not named');
  assert.equal(text.dayLabel(new Date(2025, 11, 31, 12, 0), new Date(2026, 0, 1, 8, 0)), 'Yesterday'); // across the year
  assert.ok(text.dayLabel(new Date(2025, 11, 30, 12, 0), new Date(2026, 0, 1, 8, 0)).includes('2025'), 'another year is named');
});

test('names_compare_and_sort_without_case', () => {
  assert.ok(text.sameName('Alice', 'aLICE'));
  assert.ok(!text.sameName('alice', 'alice2'));
  assert.deepEqual(['bob', 'Alice', 'carol', 'alice2'].sort(text.byName), ['Alice', 'alice2', 'bob', 'carol']);
  assert.equal(text.plural(1, 'message waits', 'messages wait'), '1 message waits');
  assert.equal(text.plural(2, 'message waits', 'messages wait'), '2 messages wait');
});

test('an_announced_message_is_cut_at_140_characters', () => {
  assert.equal(text.spoken('bob', 'hi'), 'bob: hi');
  assert.equal(text.spoken('bob', 'x'.repeat(140)), `bob: ${'x'.repeat(140)}`);
  assert.equal(text.spoken('bob', 'x'.repeat(141)), `bob: ${'x'.repeat(140)}…`);
});

// ------------------------------------------------------------ rules.js
const SERVER = { body_bytes: 100, name_chars: 5, name_pattern: '^[a-z]{1,5}$', password_min_bytes: 12,
  page_messages: 20, page_messages_max: 40 };

test('limits_default_to_the_servers_documented_ones', () => {
  const lim = rules.limitsFrom(null);
  assert.equal(lim.body_bytes, 2000);
  assert.equal(lim.name_chars, 32);
  assert.equal(lim.password_min_bytes, 8);
  assert.equal(lim.page_messages, 50);
  assert.ok(lim.nameRe.test('a'.repeat(32)) && !lim.nameRe.test('a'.repeat(33)));
});

test('limits_are_taken_from_the_server', () => {
  const lim = rules.limitsFrom(SERVER);
  for (const [key, value] of Object.entries(SERVER)) assert.equal(lim[key], value, key);
  assert.ok(lim.nameRe.test('abcde') && !lim.nameRe.test('abcdef') && !lim.nameRe.test('ABC'));
});

test('limits_that_make_no_sense_keep_the_fallback', () => {
  const fallback = rules.limitsFrom(SERVER);
  const lim = rules.limitsFrom({ body_bytes: -1, name_chars: '32', name_pattern: '([', password_min_bytes: 1.5,
    page_messages: 0, page_messages_max: null }, fallback);
  for (const key of Object.keys(SERVER)) assert.equal(lim[key], fallback[key], key);
  assert.equal(rules.limitsFrom('nonsense', fallback).name_pattern, SERVER.name_pattern);
});

test('names_are_checked_with_the_servers_pattern', () => {
  const lim = rules.limitsFrom(null);
  assert.equal(rules.nameProblem('alice_1.x-Y', lim), '');
  assert.equal(rules.nameProblem('a'.repeat(32), lim), '');
  assert.equal(rules.nameProblem('', lim), 'Type a nickname.');
  for (const bad of ['a'.repeat(33), 'has space', 'café', 'at@home']) {
    assert.match(rules.nameProblem(bad, lim), /^Use 1–32 letters/, bad);
  }
  const small = rules.limitsFrom(SERVER);
  assert.match(rules.nameProblem('abcdef', small), /^Use 1–5 letters/);
  assert.ok(!rules.validName(42, small) && rules.validName('abc', small));
});

test('passwords_are_counted_in_utf8_bytes', () => {
  const lim = rules.limitsFrom(null);
  assert.equal(rules.passwordProblem('12345678', lim), '');
  assert.equal(rules.passwordProblem('1234567', lim), 'Pick a password of at least 8 characters.');
  assert.equal(rules.passwordProblem('ééé', lim), 'Pick a password of at least 8 characters.'); // 6 bytes
  assert.equal(rules.passwordProblem('éééé', lim), ''); // 8 bytes
  assert.match(rules.passwordProblem('12345678', rules.limitsFrom(SERVER)), /at least 12/);
});

test('a_body_over_the_limit_is_refused_with_its_size', () => {
  const lim = rules.limitsFrom(SERVER);
  assert.equal(rules.bodyProblem('x'.repeat(100), lim), '');
  assert.equal(rules.bodyProblem('x'.repeat(101), lim),
    'This message is 101 bytes long; the limit is 100. Shorten it or send it in parts.');
  assert.match(rules.bodyProblem('é'.repeat(51), lim), /^This message is 102 bytes/);
});

test('refusals_are_explained_and_busy_ones_waited_out', () => {
  const lim = rules.limitsFrom(SERVER);
  assert.equal(rules.refusalText('too_large', 'x', lim), 'Too long: at most 100 bytes.');
  assert.equal(rules.refusalText('not_found', 'x', lim), 'This room does not exist on the server.');
  assert.equal(rules.refusalText('bad_request', 'control characters', lim), 'Not sent: control characters.');
  assert.equal(rules.refusalText('bad_request', '', lim), 'The server refused this message.');
  assert.ok(rules.isBusy('rate_limited') && rules.isBusy('unavailable') && !rules.isBusy('bad_request'));
});

test('frames_are_objects_with_a_type_anything_else_is_dropped', () => {
  assert.deepEqual(rules.parseFrame('{"type":"ack","cid":"c1","id":3}'), { type: 'ack', cid: 'c1', id: 3 });
  for (const bad of ['not json', '', 'null', '42', '"hello"', '[{"type":"ack"}]', '{"kind":"ack"}', '{"type":7}']) {
    assert.equal(rules.parseFrame(bad), null, bad);
  }
});

test('a_stored_message_needs_id_author_body_and_time', () => {
  assert.ok(rules.validMessage({ id: 1, author: 'a', body: 'b', ts: 5 }));
  for (const bad of [null, {}, { id: '1', author: 'a', body: 'b', ts: 5 }, { id: 1, author: 'a', body: 2, ts: 5 },
    { id: 1, author: 'a', body: 'b', ts: NaN }, { id: 1.5, author: 'a', body: 'b', ts: 5 }]) {
    assert.ok(!rules.validMessage(bad), JSON.stringify(bad));
  }
});

// ------------------------------------------------------------ room.js
const msg = (id, author = 'bob', body = `m${id}`) => ({ id, author, body, ts: 1000 + id });
const ids = (r) => r.messages.map((m) => m.id);

test('messages_are_kept_in_id_order_each_once', () => {
  const r = room.newRoom('general', null);
  assert.ok(room.addMessage(r, msg(5)));
  assert.ok(room.addMessage(r, msg(9)));
  assert.ok(room.addMessage(r, msg(7)));
  assert.ok(room.addMessage(r, msg(1)));
  assert.ok(!room.addMessage(r, msg(7)), 'a replayed message is not added again');
  assert.deepEqual(ids(r), [1, 5, 7, 9]);
  assert.equal(r.maxId, 9);
  assert.equal(r.messages[0].room, 'general');
  assert.equal(r.messages[0].cid, null);
});

test('a_room_from_its_cache_keeps_valid_messages_sorted', () => {
  const r = room.newRoom('general', { messages: [msg(4), { id: 'x' }, msg(2)], hasMore: false, lastRead: 2 });
  assert.deepEqual(ids(r), [2, 4]);
  assert.equal(r.maxId, 4);
  assert.equal(r.hasMore, false);
  assert.equal(r.lastRead, 2);
  assert.equal(r.fresh, false);
  const none = room.newRoom('general', null);
  assert.ok(none.fresh && none.hasMore && none.maxId === 0 && none.lastRead === 0);
});

test('deleted_messages_leave_the_room_and_its_ids', () => {
  const r = room.newRoom('general', null);
  for (const id of [1, 2, 3]) room.addMessage(r, msg(id));
  r.dirty = false;
  room.keepMessages(r, (m) => m.id !== 2);
  assert.deepEqual(ids(r), [1, 3]);
  assert.ok(r.dirty && !r.ids.has(2));
  assert.ok(room.addMessage(r, msg(2)), 'a deleted id can come back');
  r.dirty = false;
  room.keepMessages(r, () => true);
  assert.ok(!r.dirty, 'nothing dropped, nothing to save');
});

test('unread_counts_others_messages_after_the_read_mark', () => {
  const r = room.newRoom('general', null);
  for (const m of [msg(1), msg(2, 'me'), msg(3), msg(4, 'ME')]) room.addMessage(r, m);
  r.lastRead = 1;
  assert.equal(room.unreadCount(r, (n) => text.sameName(n, 'me')), 1);
});

test('a_namesake_on_another_appliance_is_not_me', () => {
  const r = room.newRoom('general', null);
  const isMe = (n) => text.sameName(n, 'me');
  room.addMessage(r, msg(1, 'me'));
  room.addMessage(r, { ...msg(2, 'me'), node: 'other-building' });
  r.lastRead = 0;
  assert.equal(room.unreadCount(r, isMe), 1, 'the mirrored one counts as unread');
  assert.ok(room.ownMessage(r.messages[0], isMe));
  assert.ok(!room.ownMessage(r.messages[1], isMe), 'mirrored: never ours to delete');
  assert.equal(r.messages[1].node, 'other-building');
});

test('the_newest_page_fills_a_fresh_room_as_read_history', () => {
  const r = room.newRoom('general', null);
  room.addMessage(r, msg(11)); // came live over the link after the join (which replayed up to 10)
  room.applyNewestPage(r, { messages: [msg(8), msg(9), msg(10)], has_more: true }, 10);
  assert.deepEqual(ids(r), [8, 9, 10, 11]);
  assert.equal(r.lastRead, 10, 'what was said before joining is not unread');
  assert.equal(r.hasMore, true);
  assert.equal(r.fresh, false);
});

test('the_newest_page_drops_cached_messages_deleted_while_away', () => {
  const cached = { messages: [msg(3), msg(5), msg(6), msg(8), msg(9)], hasMore: true, lastRead: 9 };
  const r = room.newRoom('general', cached);
  room.addMessage(r, msg(10)); // live, after the join's replay (up to 9)
  // The server's newest page: 5 and 8 were deleted; 3 is older than the page.
  room.applyNewestPage(r, { messages: [msg(4), msg(6), msg(7), msg(9)], has_more: true }, 9);
  assert.deepEqual(ids(r), [3, 4, 6, 7, 9, 10]);
  assert.equal(r.lastRead, 9, 'a known room keeps its read mark');
});

test('an_older_page_goes_in_front_and_says_if_there_is_more', () => {
  const r = room.newRoom('general', null);
  room.addMessage(r, msg(10));
  room.applyOlderPage(r, { messages: [msg(6), msg(8)], has_more: false });
  assert.deepEqual(ids(r), [6, 8, 10]);
  assert.equal(r.hasMore, false);
});

// ------------------------------------------------------------ outbox.js
const entry = (cid, created, state = 'pending', body = cid) => ({ cid, room: 'general', body, created, state, error: null });

test('a_save_keeps_the_other_tabs_entries_in_time_order', () => {
  const settled = new outbox.Settled();
  const stored = [entry('b', 2), entry('a', 1)];
  const merged = outbox.mergeOutbox([entry('c', 3, 'sending'), entry('a', 1, 'failed')], stored, settled);
  assert.deepEqual(merged.map((e) => e.cid), ['a', 'b', 'c']);
  assert.equal(merged[0].state, 'failed', 'this page\'s copy of an entry wins');
  assert.equal(merged[2].state, 'pending', 'one being sent is stored as waiting');
  assert.deepEqual(Object.keys(merged[2]).sort(), ['body', 'cid', 'created', 'error', 'room', 'state']);
});

test('a_save_drops_stored_entries_this_page_saw_settled', () => {
  const settled = new outbox.Settled();
  settled.add('acked');
  const merged = outbox.mergeOutbox([], [entry('acked', 1), entry('other', 2), null, { cid: 5 }], settled);
  assert.deepEqual(merged.map((e) => e.cid), ['other']);
  assert.deepEqual(outbox.mergeOutbox([entry('x', 1)], 'garbage', settled).map((e) => e.cid), ['x']);
});

test('the_settled_set_keeps_the_newest_cids_only', () => {
  const settled = new outbox.Settled(3);
  for (const cid of ['a', 'b', 'c', 'd']) settled.add(cid);
  assert.ok(!settled.has('a') && settled.has('b') && settled.has('d'));
  settled.clear();
  assert.ok(!settled.has('d'));
});

test('a_restored_outbox_sends_again_all_but_refused_entries', () => {
  const restored = outbox.restoreOutbox([entry('a', 1, 'sending'), entry('b', 2, 'failed'), entry('c', 3, 'weird'),
    { cid: 'd', room: 'general' }, null, { cid: 7, room: 'general', body: 'x' }]);
  assert.deepEqual(restored.map((e) => [e.cid, e.state]), [['a', 'pending'], ['b', 'failed'], ['c', 'pending']]);
  assert.deepEqual(outbox.restoreOutbox(null), []);
});

// ------------------------------------------------------------ typing (text.js)
test('typing_line_names_one_or_two_typists_else_says_several', () => {
  assert.equal(text.typingText([]), '');
  assert.equal(text.typingText(['alice']), 'alice is typing…');
  assert.equal(text.typingText(['alice', 'bob']), 'alice and bob are typing…');
  assert.equal(text.typingText(['alice', 'bob', 'carol']), 'several people are typing…');
});

// ------------------------------------------------------------ mentions (text.js)
const mentions = (s) => text.mentionParts(s).filter((p) => p.mention).map((p) => p.mention);

test('at_names_are_mentions_and_the_text_around_them_stays_whole', () => {
  const s = '@alice see this, @bob.smith and @carol.';
  assert.deepEqual(mentions(s), ['alice', 'bob.smith', 'carol']);
  assert.equal(text.mentionParts(s).map((p) => p.text).join(''), s);
  assert.deepEqual(text.mentionParts('hi (@dave)!'), [{ text: 'hi (' }, { mention: 'dave', text: '@dave' }, { text: ')!' }]);
  assert.deepEqual(text.mentionParts('no names'), [{ text: 'no names' }]);
  assert.deepEqual(text.mentionParts(''), [{ text: '' }]);
});

test('an_address_or_a_lone_at_is_no_mention', () => {
  assert.deepEqual(mentions('mail bob@example.org or @ or @. or @@x'), []);
  assert.deepEqual(mentions('<@eve>'), ['eve']); // markup stays text: only the name is marked
});

test('moderation_frames_are_told_in_words', () => {
  const say = text.moderationText;
  assert.equal(say({ action: 'mute', user: 'bob', by: 'ada', seconds: 600 }), 'ada muted bob for 10 minutes');
  assert.equal(say({ action: 'mute', user: 'bob', by: 'ada', seconds: 3600 }), 'ada muted bob for 1 hour');
  assert.equal(say({ action: 'mute', user: 'bob', by: 'ada', seconds: 86400 }), 'ada muted bob for 1 day');
  assert.equal(say({ action: 'mute', user: 'bob', by: 'ada', seconds: 90 }), 'ada muted bob for 90 seconds');
  assert.equal(say({ action: 'mute', user: 'bob', by: 'ada', seconds: 1 }), 'ada muted bob for 1 second');
  assert.equal(say({ action: 'unmute', user: 'bob', by: 'ada', seconds: 0 }), 'ada unmuted bob');
  assert.equal(say({ action: 'kick', user: 'bob', by: 'ada' }), 'ada removed bob');
  assert.equal(say({ action: 'ban', user: 'bob', by: 'ada' }), 'ada banned bob');
  assert.equal(say({ action: 'ban', user: '192.0.2.7', by: 'ada' }), 'ada banned 192.0.2.7');
  assert.equal(say({ action: 'unban', user: 'bob', by: 'ada' }), 'ada lifted the ban on bob');
  assert.equal(say({ action: 'reserve', user: 'teacher', by: 'ada' }), 'ada reserved the name teacher');
  assert.equal(say({ action: 'unreserve', user: 'teacher', by: 'ada' }), 'ada released the name teacher');
  assert.equal(say({ action: 'room', user: 'maths', by: 'ada' }), 'ada changed the topic or read-only setting of #maths');
  assert.equal(say({ action: 'promote', user: 'bob', by: 'ada' }), null); // a newer server's: not shown
  assert.equal(say({ action: 'kick', user: 7, by: 'ada' }), null);
});

// ------------------------------------------------------------ mention counts (room.js)
test('mentions_count_unread_messages_naming_me_without_case', () => {
  const isMe = (n) => text.sameName(n, 'Bob');
  const r = room.newRoom('general', null);
  for (const m of [msg(1, 'al', 'hi @bob'), msg(2, 'al', 'hi @BOB.'), msg(3, 'al', 'mail bob@x.org'),
    msg(4, 'al', 'hi @bobby'), msg(5, 'bob', 'me, @bob'), msg(6, 'al', 'and @Bob, again')]) room.addMessage(r, m);
  r.lastRead = 1;
  assert.equal(room.mentionCount(r, isMe, 'bob'), 2, 'ids 2 and 6: not an address, another name, nor my own');
  assert.equal(room.unreadCount(r, isMe), 4);
  r.lastRead = 6;
  assert.equal(room.mentionCount(r, isMe, 'bob'), 0, 'the room read: cleared');
  assert.equal(room.mentionCount(r, isMe, null), 0);
});

test('in_a_direct_room_every_unread_message_counts_as_a_mention', () => {
  const isMe = (n) => text.sameName(n, 'bob');
  const r = room.newRoom('dm', null);
  r.direct = true;
  for (const m of [msg(1, 'al', 'psst'), msg(2, 'bob', 'yes?'), msg(3, 'al', 'lunch?')]) room.addMessage(r, m);
  assert.equal(room.mentionCount(r, isMe, 'bob'), 2);
  assert.ok(room.callsFor(r, r.messages[0], isMe, 'bob'));
  assert.ok(!room.callsFor(r, r.messages[1], isMe, 'bob'), 'my own never calls for me');
  r.direct = false;
  assert.ok(!room.callsFor(r, r.messages[0], isMe, 'bob'));
});

test('a_window_around_a_message_replaces_the_room_and_pages_after_close_the_gap', () => {
  const r = room.newRoom('general', null);
  for (const id of [90, 91, 92]) room.addMessage(r, msg(id));
  room.applyWindow(r, { messages: [msg(3), msg(4), msg(5)], has_more: true }, { messages: [msg(6), msg(7)], has_more: true });
  assert.deepEqual(ids(r), [3, 4, 5, 6, 7]);
  assert.equal(r.maxId, 92, 'the join\'s since stays');
  assert.ok(r.hasMore);
  assert.equal(r.gapAfter, 7);
  room.addMessage(r, msg(93)); // live, past the gap
  assert.deepEqual(room.shownMessages(r).map((m) => m.id), [3, 4, 5, 6, 7], 'nothing past the gap shown');
  room.applyNewerPage(r, { messages: [msg(8), msg(9)], has_more: true });
  assert.equal(r.gapAfter, 9);
  room.applyNewerPage(r, { messages: [msg(92), msg(93)], has_more: false });
  assert.equal(r.gapAfter, 0, 'the newest reached');
  assert.deepEqual(room.shownMessages(r).map((m) => m.id), [3, 4, 5, 6, 7, 8, 9, 92, 93]);
  const whole = room.newRoom('general', null);
  room.applyWindow(whole, { messages: [msg(1)], has_more: false }, { messages: [msg(2)], has_more: false });
  assert.equal(whole.gapAfter, 0, 'the newest in the window: no gap');
  assert.ok(!whole.hasMore);
});

// ------------------------------------------------------------ notify.js
const facts = (o) => ({ supported: true, secure: true, permission: 'granted', wanted: true, origin: 'http://chat.lan', ...o });
test('a_hidden_page_notifies_of_a_mention_when_allowed', () => {
  const { state } = notify.notifyState(facts());
  assert.equal(state, 'on');
  assert.ok(notify.shouldNotify({ hidden: true, calls: true, state }));
  assert.ok(!notify.shouldNotify({ hidden: false, calls: true, state }), 'the reader sees the page');
  assert.ok(!notify.shouldNotify({ hidden: true, calls: false, state }), 'not for the reader');
  for (const o of [{ wanted: false }, { permission: 'default' }, { permission: 'denied' }, { secure: false }, { supported: false }]) {
    assert.ok(!notify.shouldNotify({ hidden: true, calls: true, state: notify.notifyState(facts(o)).state }), JSON.stringify(o));
  }
});

test('without_https_an_api_or_permission_the_page_says_why', () => {
  const insecure = notify.notifyState(facts({ secure: false, supported: false }));
  assert.equal(insecure.state, 'unavailable');
  assert.match(insecure.text, /need HTTPS: open https:\/\/chat\.lan .*trust page/);
  assert.match(notify.notifyState(facts({ supported: false })).text, /cannot show notifications/);
  const denied = notify.notifyState(facts({ permission: 'denied' }));
  assert.equal(denied.state, 'denied');
  assert.match(denied.text, /blocked/);
  assert.equal(notify.notifyState(facts({ permission: 'default' })).state, 'ask');
  assert.deepEqual(notify.notifyState(facts({ wanted: false, permission: 'default' })), { state: 'off', text: '' });
});

test('a_notification_names_room_and_author_and_cuts_the_text', () => {
  const n = notify.notificationOf('general', { author: 'al', body: 'x'.repeat(500) });
  assert.equal(n.title, '#general: al');
  assert.equal(n.body.length, notify.BODY_MAX);
  assert.ok(n.body.endsWith('…'));
  assert.equal(notify.notificationOf('dm', { author: 'al', body: 'hi' }, true).title, 'al');
});

// ------------------------------------------------------------ run
const pattern = process.argv[2] === '-k' ? process.argv[3] || '' : '';
let passed = 0;
let failed = 0;
for (const { name, fn } of tests) {
  if (!name.includes(pattern)) continue;
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
console.log(`web-unit: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
