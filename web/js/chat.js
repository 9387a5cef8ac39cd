// chat - the page's conversation with the server: the link (WebSocket) and
// its frames, the outbox on its way out, each room's join and its pages of
// history over REST. Changes the state (state.js) and asks for a redraw.
//
// Delivery: every message typed goes into the outbox first (kept in
// localStorage) with a cid; it is sent when the link is up and leaves the
// outbox only when the server acknowledges it. A resend after a drop or a
// reload reuses the cid, so the server stores it once. On every (re)connect
// each room is joined with since = the last id seen: nothing missed, and
// messages are kept by id, so nothing shows twice.

import { api } from './api.js';
import { Link } from './link.js';
import { local, newCid } from './local.js';
import { mergeOutbox, restoreOutbox } from './outbox.js';
import {
  addMessage, applyNewerPage, applyNewestPage, applyOlderPage, applyWindow, keepMessages, ownMessage,
} from './room.js';
import { isBusy, refusalText, validName } from './rules.js';
import { S, isMe, room, settled, ui } from './state.js';
import { byName, moderationText, sameName, spoken } from './text.js';

const NOTICES_KEPT = 50;
const BUSY_RETRY_MS = 1500; // a send refused as rate_limited or unavailable
const LOAD_RETRY_MS = 3000; // a failed page of history
const TYPING_SEND_MS = 2000; // a typing frame at most this often (the server's CHAT_TYPING_INTERVAL_MS)
const TYPING_SHOW_MS = 5000; // "x is typing…" without a new frame from x

// ---- rooms ----

// A direct conversation's room: "@" and its id (docs/API.md, "Direct messages").
export const isDirect = (name) => /^@[0-9]+$/.test(name);

// The rooms of a hello or GET /api/v1/rooms: [{name, direct?, read_only?, topic?}].
export function setRoomList(rooms) {
  for (const r of rooms) if (r.direct && isDirect(r.name)) S.direct.set(r.name, r.direct);
  setRooms(rooms.map((r) => r.name));
  for (const e of rooms) {
    const r = S.rooms.get(e.name);
    if (!r) continue;
    // a direct-message room: every unread message in it counts as a mention
    r.direct = e.direct !== undefined && e.direct !== false;
    r.readOnly = e.read_only === true;
    r.topic = typeof e.topic === 'string' ? e.topic : '';
  }
}

export function setRooms(names) {
  const list = names.filter((n) => validName(n, S.limits) || isDirect(n));
  if (!list.length) list.push('general');
  for (const name of list) {
    const known = S.rooms.has(name);
    const r = room(name);
    if (!known && S.up) join(r);
  }
  S.order = list;
  if (!S.order.includes(S.current)) S.current = S.order[0];
  local.saveRooms(S.me, S.order);
}

// ---- the outbox ----

export function saveOutbox() {
  local.saveOutbox(S.me, mergeOutbox(S.outbox, local.outbox(S.me), settled));
}

export function loadOutbox() {
  S.outbox = restoreOutbox(local.outbox(S.me));
}

export function flush() {
  if (!S.up) return;
  for (const e of S.outbox) {
    if (e.state !== 'pending') continue;
    e.state = link.send({ type: 'send', room: e.room, body: e.body, cid: e.cid }) ? 'sending' : 'pending';
  }
  ui.schedule();
}

let busyTimer = 0;
function retryBusy() {
  clearTimeout(busyTimer);
  busyTimer = setTimeout(flush, BUSY_RETRY_MS);
}

export function dropFromOutbox(cid) {
  const i = S.outbox.findIndex((e) => e.cid === cid);
  if (i < 0) return null;
  settled.add(cid);
  const [entry] = S.outbox.splice(i, 1);
  saveOutbox();
  return entry;
}

export function queue(text) {
  S.outbox.push({ cid: newCid(), room: S.current, body: text, created: Date.now(), state: 'pending', error: null });
  saveOutbox();
  S.stickOnce = true;
  flush();
  ui.schedule();
}

// ---- typing ----

let typingSent = { room: null, at: 0 };

// The composer changed: the room's others learn that we type, at most every
// TYPING_SEND_MS (the server drops more anyway); only in a room joined on
// this link, so never in one the server does not have (an error toast).
export function typed() {
  const now = Date.now();
  if (!S.features.typing || !S.up || !S.rooms.get(S.current)?.joined) return;
  if (typingSent.room === S.current && now - typingSent.at < TYPING_SEND_MS) return;
  if (link.send({ type: 'typing', room: S.current })) typingSent = { room: S.current, at: now };
}

function typingOf(roomName) {
  let m = S.typing.get(roomName);
  if (!m) S.typing.set(roomName, (m = new Map()));
  return m;
}

let typingTimer = 0;
// Forgets who stopped typing, and redraws then.
function expireTyping() {
  clearTimeout(typingTimer);
  const now = Date.now();
  let next = Infinity;
  for (const m of S.typing.values()) {
    for (const [user, until] of m) {
      if (until <= now) m.delete(user);
      else next = Math.min(next, until);
    }
  }
  if (next !== Infinity) typingTimer = setTimeout(() => { expireTyping(); ui.schedule(); }, next - now);
}

function stoppedTyping(roomName, user) {
  const m = S.typing.get(roomName);
  if (!m) return;
  for (const name of m.keys()) if (sameName(name, user)) m.delete(name);
}

// Who types in the room now, others only, in the order they began.
export const typingNames = (roomName) => [...(S.typing.get(roomName)?.keys() ?? [])];

// ---- the link ----

export const link = new Link({
  open() {
    S.up = true;
    S.everUp = true;
    S.retryAt = 0;
    ui.schedule();
  },
  frame: onFrame,
  close(event, wasOpen) {
    S.up = false;
    for (const e of S.outbox) if (e.state === 'sending') e.state = 'pending';
    for (const r of S.rooms.values()) r.joined = false;
    // A refused handshake or a close by a logout elsewhere: is the session
    // still alive?
    if ((!wasOpen || event.code === 1000) && !S.loggingOut) checkSession();
    ui.schedule();
  },
  wait(ms) {
    S.retryAt = Date.now() + ms;
    ui.schedule();
  },
});

function join(r) {
  r.joined = false;
  link.send(r.maxId ? { type: 'join', room: r.name, since: r.maxId } : { type: 'join', room: r.name });
}

function onFrame(f) {
  switch (f.type) {
    case 'hello':
      S.me = f.user;
      S.online = (f.online || []).slice().sort(byName);
      setRoomList(f.rooms || []);
      for (const r of S.rooms.values()) if (S.order.includes(r.name)) join(r);
      flush();
      break;
    case 'message': {
      const r = S.rooms.get(f.room);
      if (ownMessage(f, isMe) && f.cid) {
        settled.add(f.cid); // also when another tab of mine sent it
        dropFromOutbox(f.cid);
      }
      if (r && addMessage(r, f)) arrived(r, f);
      if (typeof f.author === 'string' && !f.node) stoppedTyping(f.room, f.author);
      break;
    }
    case 'typing':
      if (typeof f.room !== 'string' || typeof f.user !== 'string' || isMe(f.user)) return; // mine: another tab
      stoppedTyping(f.room, f.user);
      typingOf(f.room).set(f.user, Date.now() + TYPING_SHOW_MS);
      expireTyping();
      break;
    case 'ack': {
      const entry = dropFromOutbox(f.cid);
      if (entry && S.rooms.has(entry.room)) {
        addMessage(S.rooms.get(entry.room), { id: f.id, author: S.me, body: entry.body, ts: f.ts, cid: f.cid });
        if (entry.room === S.current) S.stickOnce = true;
      }
      break;
    }
    case 'rooms': // a room was made (a direct conversation with us, perhaps)
      refreshRooms();
      break;
    case 'error':
      onRefused(f);
      break;
    case 'gap': {
      // More was missed than a join replays: start again from what follows.
      const r = S.rooms.get(f.room);
      if (r) {
        keepMessages(r, () => false);
        r.hasMore = true;
        r.gapAfter = 0;
      }
      break;
    }
    case 'joined': {
      const r = S.rooms.get(f.room);
      if (r) {
        r.joined = true;
        reconcile(r, r.maxId);
      }
      break;
    }
    case 'presence':
      onPresence(f.user, f.online);
      break;
    case 'moderation': {
      const text = moderationText(f);
      if (!text) return;
      S.notices = [...S.notices, { ts: Date.now(), text, kind: 'moderation' }].slice(-NOTICES_KEPT);
      ui.announce(text);
      if (f.action === 'room') refreshRooms(); // its new flag and topic
      ui.moderated(f);
      break;
    }
    case 'deleted': {
      const r = S.rooms.get(f.room);
      if (r) keepMessages(r, (m) => m.id !== f.id);
      break;
    }
    default:
      return; // a frame of a newer server: ignored
  }
  ui.schedule();
}

function arrived(r, m) {
  if (r.joined) ui.notify(r, m);
  if (!r.joined || ownMessage(m, isMe) || r.name !== S.current) return;
  if (!ui.atBottom()) S.newBelow = true;
  ui.announce(spoken(m.author, m.body));
}

function onRefused(f) {
  const entry = f.cid ? S.outbox.find((e) => e.cid === f.cid) : null;
  if (!entry) {
    ui.toast(f.message || 'The server refused a request.');
    return;
  }
  if (isBusy(f.code)) {
    entry.state = 'pending'; // busy, not wrong: send again shortly
    retryBusy();
  } else {
    entry.state = 'failed';
    entry.error = refusalText(f.code, f.message, S.limits);
  }
  saveOutbox();
}

function onPresence(user, online) {
  const known = S.online.some((n) => sameName(n, user));
  if (online && !known) S.online = [...S.online, user].sort(byName);
  if (!online) S.online = S.online.filter((n) => !sameName(n, user));
  const text = online ? `${user} is online` : `${user} left`;
  S.notices = [...S.notices, { ts: Date.now(), text }].slice(-NOTICES_KEPT);
  ui.announce(text);
}

// ---- history over REST ----

// The newest page after a join (room.js: applyNewestPage).
async function reconcile(r, upTo) {
  let page;
  try {
    page = await api.history(r.name, 0, S.limits.page_messages);
  } catch (e) {
    if (e.status === 401) ui.sessionEnded();
    return;
  }
  applyNewestPage(r, page, upTo);
  ui.schedule();
}

export async function loadOlder(r) {
  if (r.loading || !r.hasMore || Date.now() - r.loadFailedAt < LOAD_RETRY_MS) return;
  r.loading = true;
  ui.schedule();
  try {
    applyOlderPage(r, await api.history(r.name, r.messages[0]?.id, S.limits.page_messages));
  } catch (e) {
    r.loadFailedAt = Date.now();
    if (e.status === 401) ui.sessionEnded();
    else if (e.code !== 'offline') ui.toast(`Older messages could not be loaded: ${e.message}`);
  } finally {
    r.loading = false;
    ui.schedule();
  }
}

// A room opened at one message (a search result): the history around it,
// unless the room holds it already; the timeline scrolls to it and marks it
// for a moment (render.js: S.scrollTo).
export async function openAt(name, id) {
  const r = room(name);
  S.scrollTo = id;
  if (!r.ids.has(id) || (r.gapAfter && id > r.gapAfter)) {
    try {
      const [before, after] = await Promise.all([
        api.history(r.name, id + 1, S.limits.page_messages),
        api.historyAfter(r.name, id, S.limits.page_messages),
      ]);
      applyWindow(r, before, after);
      if (!r.ids.has(id)) S.scrollTo = 0; // deleted since it was found
    } catch (e) {
      S.scrollTo = 0;
      if (e.status === 401) ui.sessionEnded();
      else ui.toast(e.code === 'offline' ? 'That message needs the server; try again when it is back.'
        : `That message could not be loaded: ${e.message}`);
    }
  }
  ui.schedule();
}

// The next page after the gap of a room opened at a message, until the
// newest are reached (the reader scrolled to the end of what is shown).
export async function loadNewer(r) {
  if (r.loadingNewer || !r.gapAfter || Date.now() - r.loadFailedAt < LOAD_RETRY_MS) return;
  r.loadingNewer = true;
  ui.schedule();
  try {
    applyNewerPage(r, await api.historyAfter(r.name, r.gapAfter, S.limits.page_messages));
  } catch (e) {
    r.loadFailedAt = Date.now();
    if (e.status === 401) ui.sessionEnded();
    else if (e.code !== 'offline') ui.toast(`Newer messages could not be loaded: ${e.message}`);
  } finally {
    r.loadingNewer = false;
    ui.schedule();
  }
}

// Rooms created by others (there is no frame for them).
export async function refreshRooms() {
  if (!S.me || !S.up) return;
  try {
    const res = await api.rooms();
    setRoomList(res.rooms);
    ui.schedule();
  } catch (e) {
    if (e.status === 401) ui.sessionEnded();
  }
}

// Opens (or finds) the direct conversation with name and shows it.
export async function openDirect(name, pick) {
  try {
    const res = await api.direct(name);
    S.direct.set(res.name, res.direct);
    if (!S.order.includes(res.name)) setRooms([...S.order, res.name]);
    pick(res.name);
  } catch (e) {
    if (e.status === 401) ui.sessionEnded();
    else ui.toast(`No conversation with ${name}: ${e.message}`);
  }
}

export async function checkSession() {
  try {
    await api.session();
  } catch (e) {
    if (e.status === 401) ui.sessionEnded();
  }
}
