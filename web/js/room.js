// room - one room's messages as the page holds them: kept by id, in id
// order, each id once (a replay or a page fetched again never shows a
// message twice), with the highest id seen (the join's since) and the read
// mark. Pure functions on plain objects (tests/web/test_logic.mjs).

import { validMessage } from './rules.js';
import { mentions } from './text.js';

// A room, from its cached copy ({messages, hasMore, lastRead}, or null).
export function newRoom(name, cached) {
  const messages = cached && Array.isArray(cached.messages) ? cached.messages.filter(validMessage) : [];
  messages.sort((a, b) => a.id - b.id);
  return {
    name,
    messages,
    ids: new Set(messages.map((m) => m.id)),
    maxId: messages.length ? messages[messages.length - 1].id : 0,
    hasMore: cached ? cached.hasMore !== false : true,
    lastRead: cached && Number.isSafeInteger(cached.lastRead) ? cached.lastRead : 0,
    fresh: !cached, // nothing known yet: its history so far is not "unread"
    joined: false,
    loading: false,
    loadFailedAt: 0,
    dirty: false,
    direct: false, // a direct-message room (the room list's "direct"): every unread one counts as a mention
    readOnly: false, // only admins may post (the room list's "read_only", feature moderation)
    topic: '', // the room list's "topic"
    gapAfter: 0, // opened at a search result: messages after this id are not loaded yet (0: none missing)
  };
}

// Adds m in its place by id; false when the room has it already.
export function addMessage(r, m) {
  if (r.ids.has(m.id)) return false;
  const msg = { id: m.id, room: r.name, author: m.author, body: m.body, ts: m.ts, cid: m.cid ?? null, node: m.node ?? null };
  r.ids.add(m.id);
  const list = r.messages;
  if (!list.length || list[list.length - 1].id < m.id) list.push(msg);
  else list.splice(list.findIndex((x) => x.id > m.id), 0, msg);
  r.maxId = Math.max(r.maxId, m.id);
  r.dirty = true;
  return true;
}

export function keepMessages(r, keep) {
  const before = r.messages.length;
  r.messages = r.messages.filter(keep);
  if (r.messages.length === before) return;
  r.ids = new Set(r.messages.map((m) => m.id));
  r.dirty = true;
}

// Whether m is the user's own: a message mirrored from another appliance
// (it has a node) never is, whatever its author's name.
export const ownMessage = (m, isMe) => !m.node && isMe(m.author);

// Messages after the read mark written by others (isMe(name) says who is not).
export const unreadCount = (r, isMe) => r.messages.reduce((n, m) => n + (m.id > r.lastRead && !ownMessage(m, isMe) ? 1 : 0), 0);

// Unread messages that call for the reader: those naming `me` ("@me"), or
// every unread one in a direct-message room.
export const mentionCount = (r, isMe, me) => r.messages.reduce((n, m) => n
  + (m.id > r.lastRead && !ownMessage(m, isMe) && (r.direct || mentions(m.body, me)) ? 1 : 0), 0);

// Whether a message arriving live calls for the reader (a notification).
export const callsFor = (r, m, isMe, me) => !ownMessage(m, isMe) && (r.direct || mentions(m.body, me));

// The newest page over REST ({messages, has_more}) after a join that
// replayed up to upTo: fills a room seen for the first time, and drops
// cached messages deleted while the page was away (those with ids in the
// page's range, up to the last id the join replayed).
export function applyNewestPage(r, page, upTo) {
  const got = new Set(page.messages.map((m) => m.id));
  const floor = page.has_more && page.messages.length ? page.messages[0].id : 0;
  keepMessages(r, (m) => m.id < floor || m.id > upTo || got.has(m.id));
  // In a room seen for the first time, what was said before joining is
  // history, not unread; what came live over the link since is unread.
  const history = page.messages.filter((m) => !r.ids.has(m.id));
  for (const m of page.messages) addMessage(r, m);
  if (!r.messages.length || r.messages[0].id === page.messages[0]?.id) r.hasMore = page.has_more;
  if (r.fresh) {
    r.fresh = false;
    for (const m of history) r.lastRead = Math.max(r.lastRead, m.id);
  }
  r.dirty = true;
}

// An older page ({messages, has_more}, fetched with before=).
export function applyOlderPage(r, page) {
  for (const m of page.messages) addMessage(r, m);
  r.hasMore = page.has_more;
  r.dirty = true;
}

// The history around one message (a search result): the page up to and
// including it (before=id+1) and the page after it (after=id). The room then
// holds this window only; when `after` has more, the messages between the
// window and the newest are missing (gapAfter: the window's last id) until
// pages after it (applyNewerPage) reach them. r.maxId, the join's since, is
// kept: what the link replayed stays known.
export function applyWindow(r, before, after) {
  keepMessages(r, () => false);
  for (const m of before.messages) addMessage(r, m);
  for (const m of after.messages) addMessage(r, m);
  r.hasMore = before.has_more;
  const last = r.messages.length ? r.messages[r.messages.length - 1].id : 0;
  r.gapAfter = after.has_more && last ? last : 0;
  r.dirty = true;
}

// A page after r.gapAfter ({messages, has_more}, fetched with after=): the
// gap closes when the server has nothing newer.
export function applyNewerPage(r, page) {
  for (const m of page.messages) addMessage(r, m);
  const last = page.messages.length ? page.messages[page.messages.length - 1].id : 0;
  r.gapAfter = page.has_more && last > r.gapAfter ? last : 0;
  r.dirty = true;
}

// The messages the timeline shows: none past a gap.
export const shownMessages = (r) => (r.gapAfter ? r.messages.filter((m) => m.id <= r.gapAfter) : r.messages);
