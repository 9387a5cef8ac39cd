// main - the page's controller: boots (session or join screen), keeps the
// state of the chat (rooms and their messages, the outbox, who is online),
// turns WebSocket frames and user actions into changes of that state, and
// redraws the page from it (coalesced: one redraw per 16 ms at most).
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
import { el, renderTimeline, renderRooms, renderOnline } from './view.js';

const $ = (id) => document.getElementById(id);
const NAME_RE = /^[A-Za-z0-9_.-]{1,32}$/;
const BOTTOM_SLACK_PX = 80; // closer than this to the end counts as "at the bottom"
const TOP_SLACK_PX = 100; // closer than this to the top loads older messages
const NOTICES_KEPT = 50;
const BUSY_RETRY_MS = 1500; // a send refused as rate_limited or unavailable
const LOAD_RETRY_MS = 3000; // a failed page of history
const ROOMS_POLL_MS = 60000; // rooms created by others (there is no frame for them)
const SAVE_EVERY_MS = 500;
const OFFLINE_TEXT = 'The chat server cannot be reached. Check that this device is on the same network.';

const S = {
  me: null,
  features: { accounts: false, rooms: false },
  limits: { body_bytes: 2000, name_chars: 32 },
  rooms: new Map(), // name → room (see newRoom)
  order: ['general'],
  current: 'general',
  online: [],
  notices: [], // {ts, text}: presence, kept for this page's life only
  outbox: [], // {cid, room, body, created, state: pending|sending|failed, error}
  up: false,
  everUp: false,
  loggingOut: false,
  retryAt: 0,
  confirmDelete: 0,
  stickOnce: false, // scroll to the end on the next redraw (own message, room switch)
  newBelow: false, // others' messages arrived while the reader was scrolled up
  rendered: null, // the room the timeline shows
  focusAfter: null, // a selector to focus after the redraw
};

const same = (a, b) => a.toLowerCase() === b.toLowerCase();
const isMe = (name) => S.me !== null && same(name, S.me);
const byName = (a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' });
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// ---- rooms and their messages ----

const validMessage = (m) => m && Number.isSafeInteger(m.id) && typeof m.body === 'string'
  && typeof m.author === 'string' && Number.isFinite(m.ts);

function newRoom(name) {
  const cached = local.room(S.me, name);
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
  };
}

function room(name) {
  let r = S.rooms.get(name);
  if (!r) {
    r = newRoom(name);
    S.rooms.set(name, r);
  }
  return r;
}

function addMessage(r, m) {
  if (r.ids.has(m.id)) return false;
  const msg = { id: m.id, room: r.name, author: m.author, body: m.body, ts: m.ts, cid: m.cid ?? null };
  r.ids.add(m.id);
  const list = r.messages;
  if (!list.length || list[list.length - 1].id < m.id) list.push(msg);
  else list.splice(list.findIndex((x) => x.id > m.id), 0, msg);
  r.maxId = Math.max(r.maxId, m.id);
  r.dirty = true;
  return true;
}

function keepMessages(r, keep) {
  const before = r.messages.length;
  r.messages = r.messages.filter(keep);
  if (r.messages.length === before) return;
  r.ids = new Set(r.messages.map((m) => m.id));
  r.dirty = true;
}

const unread = (r) => r.messages.reduce((n, m) => n + (m.id > r.lastRead && !isMe(m.author) ? 1 : 0), 0);

function setRooms(names) {
  const list = names.filter((n) => typeof n === 'string' && NAME_RE.test(n));
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

// Other tabs of the same user share the stored outbox: a save keeps their
// entries (all but those this page saw acknowledged or discarded), so a
// message typed offline in one tab survives the other tab's saves. An entry
// two tabs hold is sent by both with one cid: the server stores it once.
const settled = new Set(); // cids acknowledged or discarded in this page
const SETTLED_KEPT = 500;

function saveOutbox() {
  const mine = S.outbox.map(({ cid, room: r, body, created, state, error }) => ({
    cid, room: r, body, created, state: state === 'sending' ? 'pending' : state, error,
  }));
  const known = new Set(mine.map((e) => e.cid));
  const stored = local.outbox(S.me);
  const others = (Array.isArray(stored) ? stored : [])
    .filter((e) => e && typeof e.cid === 'string' && !known.has(e.cid) && !settled.has(e.cid));
  local.saveOutbox(S.me, [...others, ...mine].sort((a, b) => a.created - b.created));
}

function settle(cid) {
  settled.add(cid);
  if (settled.size > SETTLED_KEPT) settled.delete(settled.values().next().value);
}

function loadOutbox() {
  const entries = local.outbox(S.me);
  S.outbox = (Array.isArray(entries) ? entries : []).filter((e) => e && typeof e.cid === 'string'
    && typeof e.body === 'string' && typeof e.room === 'string')
    .map((e) => ({ ...e, state: e.state === 'failed' ? 'failed' : 'pending' }));
}

function flush() {
  if (!S.up) return;
  for (const e of S.outbox) {
    if (e.state !== 'pending') continue;
    e.state = link.send({ type: 'send', room: e.room, body: e.body, cid: e.cid }) ? 'sending' : 'pending';
  }
  schedule();
}

let busyTimer = 0;
function retryBusy() {
  clearTimeout(busyTimer);
  busyTimer = setTimeout(flush, BUSY_RETRY_MS);
}

function dropFromOutbox(cid) {
  const i = S.outbox.findIndex((e) => e.cid === cid);
  if (i < 0) return null;
  settle(cid);
  const [entry] = S.outbox.splice(i, 1);
  saveOutbox();
  return entry;
}

function queue(text) {
  S.outbox.push({ cid: newCid(), room: S.current, body: text, created: Date.now(), state: 'pending', error: null });
  saveOutbox();
  S.stickOnce = true;
  flush();
  schedule();
}

// ---- the link ----

const link = new Link({
  open() {
    S.up = true;
    S.everUp = true;
    S.retryAt = 0;
    schedule();
  },
  frame: onFrame,
  close(event, wasOpen) {
    S.up = false;
    for (const e of S.outbox) if (e.state === 'sending') e.state = 'pending';
    for (const r of S.rooms.values()) r.joined = false;
    // A refused handshake or a close by a logout elsewhere: is the session
    // still alive?
    if ((!wasOpen || event.code === 1000) && !S.loggingOut) checkSession();
    schedule();
  },
  wait(ms) {
    S.retryAt = Date.now() + ms;
    schedule();
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
      setRooms((f.rooms || []).map((r) => r.name));
      for (const r of S.rooms.values()) if (S.order.includes(r.name)) join(r);
      flush();
      break;
    case 'message': {
      const r = S.rooms.get(f.room);
      if (isMe(f.author) && f.cid) {
        settle(f.cid); // also when another tab of mine sent it
        dropFromOutbox(f.cid);
      }
      if (r && addMessage(r, f)) arrived(r, f);
      break;
    }
    case 'ack': {
      const entry = dropFromOutbox(f.cid);
      if (entry && S.rooms.has(entry.room)) {
        addMessage(S.rooms.get(entry.room), { id: f.id, author: S.me, body: entry.body, ts: f.ts, cid: f.cid });
        if (entry.room === S.current) S.stickOnce = true;
      }
      break;
    }
    case 'error':
      onRefused(f);
      break;
    case 'gap': {
      // More was missed than a join replays: start again from what follows.
      const r = S.rooms.get(f.room);
      if (r) {
        keepMessages(r, () => false);
        r.hasMore = true;
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
    case 'deleted': {
      const r = S.rooms.get(f.room);
      if (r) keepMessages(r, (m) => m.id !== f.id);
      break;
    }
    default:
      return; // a frame of a newer server: ignored
  }
  schedule();
}

function arrived(r, m) {
  if (!r.joined || isMe(m.author) || r.name !== S.current) return;
  if (!atBottom()) S.newBelow = true;
  announce(`${m.author}: ${m.body.length > 140 ? `${m.body.slice(0, 140)}…` : m.body}`);
}

function onRefused(f) {
  const entry = f.cid ? S.outbox.find((e) => e.cid === f.cid) : null;
  if (!entry) {
    toast(f.message || 'The server refused a request.');
    return;
  }
  if (f.code === 'rate_limited' || f.code === 'unavailable') {
    entry.state = 'pending'; // busy, not wrong: send again shortly
    retryBusy();
  } else {
    entry.state = 'failed';
    entry.error = refusalText(f.code, f.message);
  }
  saveOutbox();
}

function refusalText(code, message) {
  if (code === 'too_large') return `Too long: at most ${S.limits.body_bytes} bytes.`;
  if (code === 'not_found') return 'This room does not exist on the server.';
  return message ? `Not sent: ${message}.` : 'The server refused this message.';
}

function onPresence(user, online) {
  const known = S.online.some((n) => same(n, user));
  if (online && !known) S.online = [...S.online, user].sort(byName);
  if (!online) S.online = S.online.filter((n) => !same(n, user));
  const text = online ? `${user} is online` : `${user} left`;
  S.notices = [...S.notices, { ts: Date.now(), text }].slice(-NOTICES_KEPT);
  announce(text);
}

// The newest page over REST after a join: fills a room seen for the first
// time, and drops cached messages deleted while this page was away (those
// with ids in the page's range, up to the last id the join replayed).
async function reconcile(r, upTo) {
  let page;
  try {
    page = await api.history(r.name);
  } catch (e) {
    if (e.status === 401) sessionEnded();
    return;
  }
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
  schedule();
}

async function loadOlder(r) {
  if (r.loading || !r.hasMore || Date.now() - r.loadFailedAt < LOAD_RETRY_MS) return;
  r.loading = true;
  schedule();
  try {
    const page = await api.history(r.name, r.messages[0]?.id);
    for (const m of page.messages) addMessage(r, m);
    r.hasMore = page.has_more;
    r.dirty = true;
  } catch (e) {
    r.loadFailedAt = Date.now();
    if (e.status === 401) sessionEnded();
    else if (e.code !== 'offline') toast(`Older messages could not be loaded: ${e.message}`);
  } finally {
    r.loading = false;
    schedule();
  }
}

// ---- session ----

async function checkSession() {
  try {
    await api.session();
  } catch (e) {
    if (e.status === 401) sessionEnded();
  }
}

function sessionEnded() {
  if (!S.me || S.loggingOut) return;
  const name = S.me;
  leaveChat();
  showLogin('Your session has ended. Join again to go on chatting.', name);
}

function enterChat(name) {
  S.me = name;
  local.setLastUser(name);
  S.rooms = new Map();
  S.notices = [];
  S.online = [];
  S.everUp = false;
  S.up = false;
  S.current = 'general';
  setRooms(local.rooms(name));
  settled.clear();
  loadOutbox();
  S.stickOnce = true;
  S.rendered = null;
  $('login').hidden = true;
  $('chat').hidden = false;
  link.start();
  render();
  // A phone would open its keyboard over the messages: only with a mouse.
  if (window.matchMedia('(pointer: fine)').matches) $('composer-input').focus();
}

function leaveChat() {
  link.stop();
  saveRooms();
  S.me = null;
  S.up = false;
  $('chat').hidden = true;
}

function showLogin(message = '', name = local.lastUser() || '') {
  $('login').hidden = false;
  $('chat').hidden = true;
  document.title = 'lanchat';
  const input = $('login-name');
  if (name && !input.value) input.value = name;
  loginError(message);
  input.focus();
}

function loginError(message) {
  $('login-error').textContent = message;
  $('login-name').setAttribute('aria-invalid', message ? 'true' : 'false');
}

function loginRefusal(e, name, password) {
  switch (e.code) {
    case 'name_taken':
      return `“${name}” is already in use. Pick another name.`;
    case 'unauthorized':
      if (!password) return `“${name}” is registered. Type its password to join with it.`;
      return `Wrong password, or “${name}” is not registered.`;
    case 'offline':
      return OFFLINE_TEXT;
    case 'rate_limited':
    case 'unavailable':
      return 'The server is busy. Try again in a moment.';
    default:
      return e.message;
  }
}

function checkName(name) {
  if (!name) return 'Type a nickname.';
  if (!NAME_RE.test(name)) return 'Use 1–32 letters, digits, “_”, “.” or “-” (no spaces).';
  return '';
}

let loginBusy = false;
async function submitLogin(register) {
  if (loginBusy) return;
  const name = $('login-name').value.trim();
  const password = S.features.accounts ? $('login-password').value : '';
  const problem = checkName(name)
    || (register && new TextEncoder().encode(password).length < 8 ? 'Pick a password of at least 8 characters.' : '');
  if (problem) {
    loginError(problem);
    $('login-name').focus();
    return;
  }
  loginBusy = true;
  loginError('');
  $('login-submit').disabled = true;
  try {
    if (register) await api.register(name, password);
    const res = await api.login(name, password);
    $('login-password').value = '';
    enterChat(res.user.name);
  } catch (e) {
    loginError(loginRefusal(e, name, password));
    $('login-name').focus();
  } finally {
    loginBusy = false;
    $('login-submit').disabled = false;
  }
}

async function logout() {
  if (S.outbox.length && !window.confirm(`${plural(S.outbox.length, 'message is', 'messages are')} not sent yet and will be lost. Log out anyway?`)) return;
  const name = S.me;
  // The server closes this session's WebSockets (1000) before it answers:
  // that is this logout, not a session that ended elsewhere.
  S.loggingOut = true;
  try {
    await api.logout();
  } catch (e) {
    if (e.status !== 401) {
      toast(e.code === 'offline' ? 'Cannot log out while the server cannot be reached.' : e.message);
      return;
    }
  } finally {
    S.loggingOut = false;
  }
  leaveChat();
  local.forget(name);
  local.setLastUser(null);
  $('login-name').value = '';
  showLogin();
}

// ---- rendering ----

function atBottom() {
  const box = $('messages');
  return box.scrollHeight - box.scrollTop - box.clientHeight < BOTTOM_SLACK_PX;
}

let renderTimer = 0;
function schedule() {
  if (!renderTimer) renderTimer = setTimeout(render, 16);
}

function render() {
  clearTimeout(renderTimer);
  renderTimer = 0;
  if (!S.me) return;
  const r = room(S.current);
  const box = $('messages');
  const wasAtBottom = atBottom();
  const first = box.querySelector('li.msg[data-id]');
  const anchor = first ? { id: first.dataset.id, top: first.offsetTop } : null;
  const switched = S.rendered !== r.name;

  renderTimeline(box, {
    messages: r.messages,
    notices: S.notices,
    outbox: S.outbox.filter((e) => e.room === r.name),
    me: S.me,
    hasMore: r.hasMore,
    loading: r.loading,
    room: r.name,
  }, actions);
  S.rendered = r.name;

  if (switched || S.stickOnce || wasAtBottom) {
    box.scrollTop = box.scrollHeight;
  } else if (anchor) {
    const node = box.querySelector(`li.msg[data-id="${anchor.id}"]`);
    if (node) box.scrollTop += node.offsetTop - anchor.top; // older ones came in above
  }
  S.stickOnce = false;
  if (atBottom()) {
    S.newBelow = false;
    markRead(r);
  }
  $('new-pill').hidden = !S.newBelow;
  if (S.focusAfter) {
    box.querySelector(S.focusAfter)?.focus();
    S.focusAfter = null;
  }

  $('room-title').textContent = `#${r.name}`;
  $('me').textContent = S.me;
  const rooms = S.order.map((name) => {
    const x = room(name);
    return { name, unread: unread(x), ready: x.joined && !x.fresh };
  });
  renderRooms($('rooms'), rooms, S.current, pickRoom);
  renderOnline($('online'), $('online-count'), S.online, S.me);
  const total = rooms.reduce((n, x) => n + x.unread, 0);
  document.title = total ? `(${total}) lanchat` : 'lanchat';
  renderBanner();
  saveSoon();
  // A page that does not fill the screen has no scrollbar to pull older ones;
  // not while a join's replay is still coming in (after a gap the room starts
  // again from it, and what it will hold is not known until "joined").
  if (r.joined && r.hasMore && box.scrollHeight <= box.clientHeight + TOP_SLACK_PX) loadOlder(r);
}

function markRead(r) {
  if (document.hidden || r.lastRead >= r.maxId) return;
  r.lastRead = r.maxId;
  r.dirty = true;
}

let bannerTicker = 0;
function renderBanner() {
  const banner = $('conn-banner');
  $('chat').dataset.link = S.up ? 'up' : 'down'; // for people and tests: is the link up?
  if (S.up) {
    banner.hidden = true;
    clearInterval(bannerTicker);
    bannerTicker = 0;
    return;
  }
  banner.hidden = false;
  const waiting = S.outbox.filter((e) => e.state !== 'failed').length;
  const text = `${S.everUp ? 'Reconnecting…' : 'Connecting…'}${waiting ? ` ${plural(waiting, 'message waits', 'messages wait')} to be sent.` : ''}`;
  if ($('conn-text').textContent !== text) $('conn-text').textContent = text;
  const left = Math.ceil((S.retryAt - Date.now()) / 1000);
  $('conn-detail').textContent = left > 0 ? `Next try in ${left} s.` : '';
  if (!bannerTicker) bannerTicker = setInterval(renderBanner, 1000);
}

function actions(m, state) {
  const button = (text, onclick, extra = {}) => el('button', { type: 'button', class: 'act', text, onclick, ...extra });
  if (m.id) {
    if (!isMe(m.author)) return [];
    const confirming = S.confirmDelete === m.id;
    return [button(confirming ? 'Really delete?' : 'Delete', () => deleteMessage(m), {
      'data-action': `delete-${m.id}`,
      class: confirming ? 'act danger' : 'act',
    })];
  }
  const discard = button('Discard', () => {
    dropFromOutbox(m.cid);
    schedule();
  });
  if (state === 'failed') {
    return [
      button('Retry', () => {
        const e = S.outbox.find((x) => x.cid === m.cid);
        if (e) Object.assign(e, { state: 'pending', error: null });
        saveOutbox();
        flush();
      }),
      button('Edit', () => {
        dropFromOutbox(m.cid);
        const input = $('composer-input');
        input.value = m.body;
        autogrow();
        input.focus();
        schedule();
      }),
      discard,
    ];
  }
  return state === 'pending' ? [discard] : [];
}

let confirmTimer = 0;
async function deleteMessage(m) {
  if (S.confirmDelete !== m.id) {
    S.confirmDelete = m.id;
    S.focusAfter = `[data-action="delete-${m.id}"]`;
    clearTimeout(confirmTimer);
    confirmTimer = setTimeout(() => {
      S.confirmDelete = 0;
      schedule();
    }, 5000);
    schedule();
    return;
  }
  S.confirmDelete = 0;
  try {
    await api.deleteMessage(m.id);
    const r = S.rooms.get(m.room);
    if (r) keepMessages(r, (x) => x.id !== m.id);
  } catch (e) {
    if (e.status === 404) {
      const r = S.rooms.get(m.room);
      if (r) keepMessages(r, (x) => x.id !== m.id);
    } else {
      toast(e.code === 'offline' ? 'Not deleted: the server cannot be reached.' : `Not deleted: ${e.message}`);
    }
  }
  schedule();
}

let toastTimer = 0;
function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    t.hidden = true;
  }, 6000);
}

function announce(text) {
  $('announce').textContent = text;
}

let saveTimer = 0;
function saveSoon() {
  if (!saveTimer) saveTimer = setTimeout(saveRooms, SAVE_EVERY_MS);
}

function saveRooms() {
  clearTimeout(saveTimer);
  saveTimer = 0;
  if (!S.me) return;
  for (const r of S.rooms.values()) {
    if (!r.dirty) continue;
    local.saveRoom(S.me, r.name, r);
    r.dirty = false;
  }
}

// ---- user actions ----

function pickRoom(name) {
  if (S.current !== name) {
    S.current = name;
    S.confirmDelete = 0;
    S.newBelow = false;
  }
  toggleSidebar(false);
  schedule();
}

function toggleSidebar(open) {
  $('chat').classList.toggle('sidebar-open', open);
  $('menu-button').setAttribute('aria-expanded', String(open));
}

function composerError(text) {
  $('composer-error').textContent = text;
  $('composer-input').setAttribute('aria-invalid', text ? 'true' : 'false');
}

function submitMessage() {
  const input = $('composer-input');
  const text = input.value;
  if (!text.trim()) return;
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > S.limits.body_bytes) {
    composerError(`This message is ${bytes} bytes long; the limit is ${S.limits.body_bytes}. Shorten it or send it in parts.`);
    return;
  }
  composerError('');
  input.value = '';
  autogrow();
  queue(text);
}

function autogrow() {
  const input = $('composer-input');
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

async function createRoom(event) {
  event.preventDefault();
  const input = $('room-name');
  const name = input.value.trim();
  const problem = checkName(name);
  if (problem) {
    $('room-error').textContent = problem;
    return;
  }
  try {
    await api.createRoom(name);
  } catch (e) {
    $('room-error').textContent = e.code === 'conflict' ? `#${name} exists already.`
      : e.code === 'offline' ? 'Rooms can be created only while connected.' : e.message;
    if (e.code === 'conflict') refreshRooms();
    return;
  }
  $('room-error').textContent = '';
  input.value = '';
  setRooms([...S.order, name]);
  pickRoom(name);
}

async function refreshRooms() {
  if (!S.me || !S.up) return;
  try {
    const res = await api.rooms();
    setRooms(res.rooms.map((r) => r.name));
    schedule();
  } catch (e) {
    if (e.status === 401) sessionEnded();
  }
}

function wire() {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    submitLogin(false);
  });
  $('register-submit').addEventListener('click', () => submitLogin(true));
  $('login-name').addEventListener('input', () => loginError(''));
  $('logout').addEventListener('click', logout);
  $('menu-button').addEventListener('click', () => toggleSidebar(!$('chat').classList.contains('sidebar-open')));
  $('conn-now').addEventListener('click', () => link.retryNow());
  $('room-form').addEventListener('submit', createRoom);
  $('new-pill').addEventListener('click', () => {
    S.stickOnce = true;
    render();
  });
  const box = $('messages');
  box.addEventListener('scroll', () => {
    if (!S.me) return;
    const r = room(S.current);
    if (box.scrollTop < TOP_SLACK_PX) loadOlder(r);
    if (atBottom() && (S.newBelow || r.lastRead < r.maxId)) schedule();
  }, { passive: true });

  const input = $('composer-input');
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    submitMessage();
    input.focus();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitMessage();
    }
  });
  input.addEventListener('input', () => {
    autogrow();
    if ($('composer-error').textContent) composerError('');
  });

  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && $('chat').classList.contains('sidebar-open')) {
      toggleSidebar(false);
      $('menu-button').focus();
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) saveRooms();
    else {
      link.retryNow();
      schedule();
    }
  });
  window.addEventListener('online', () => link.retryNow());
  window.addEventListener('focus', refreshRooms);
  window.addEventListener('pagehide', saveRooms);
  setInterval(refreshRooms, ROOMS_POLL_MS);
}

function applyFeatures() {
  $('password-field').hidden = !S.features.accounts;
  $('register-submit').hidden = !S.features.accounts;
  $('room-form').hidden = !S.features.rooms;
}

async function boot() {
  wire();
  // Service workers need a secure context (HTTPS or localhost); the page
  // works the same without one.
  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker.register('/sw.js').catch(() => {});
  }
  try {
    const info = await api.server();
    S.features = { ...S.features, ...info.features };
    S.limits = { ...S.limits, ...info.limits };
  } catch {
    /* an older or unreachable server: the defaults */
  }
  applyFeatures();
  try {
    const session = await api.session();
    enterChat(session.user.name);
  } catch (e) {
    const last = local.lastUser();
    if (e.code === 'offline' && last) enterChat(last); // the cache and outbox, until the server is back
    else showLogin(e.code === 'offline' ? OFFLINE_TEXT : '');
  }
}

boot();
