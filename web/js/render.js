// render - draws the chat from the state (state.js): the timeline, rooms,
// who is online, the connection banner, the buttons of each message; at
// most one redraw per 16 ms however many changes come in. Also the page's
// small outputs (toast, screen-reader announcements) and the periodic save
// of each room's cache.

import { api } from './api.js';
import { dropFromOutbox, flush, loadNewer, loadOlder, openDirect, saveOutbox, typingNames } from './chat.js';
import { local } from './local.js';
import { keepMessages, mentionCount, ownMessage, shownMessages, unreadCount } from './room.js';
import { S, isMe, room, ui } from './state.js';
import { plural, typingText } from './text.js';
import { el, renderOnline, renderRooms, renderTimeline } from './view.js';

const $ = (id) => document.getElementById(id);
const BOTTOM_SLACK_PX = 80; // closer than this to the end counts as "at the bottom"
export const TOP_SLACK_PX = 100; // closer than this to the top loads older messages
const SAVE_EVERY_MS = 500;
const HIGHLIGHT_MS = 2500; // a message opened from a search result stays marked

export function atBottom() {
  const box = $('messages');
  return box.scrollHeight - box.scrollTop - box.clientHeight < BOTTOM_SLACK_PX;
}

let renderTimer = 0;
export function schedule() {
  if (!renderTimer) renderTimer = setTimeout(render, 16);
}

export function render() {
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
    messages: shownMessages(r),
    notices: S.notices,
    outbox: S.outbox.filter((e) => e.room === r.name),
    me: S.me,
    hasMore: r.hasMore,
    loading: r.loading,
    room: r.name,
    gap: r.gapAfter ? (r.loadingNewer ? 'loading' : 'more') : null,
    highlight: S.highlight.until > Date.now() ? S.highlight.id : 0,
  }, actions);
  S.rendered = r.name;

  const target = S.scrollTo ? box.querySelector(`li.msg[data-id="${S.scrollTo}"]`) : null;
  if (target) {
    S.scrollTo = 0;
    S.highlight = { id: Number(target.dataset.id), until: Date.now() + HIGHLIGHT_MS };
    target.classList.add('highlight');
    target.scrollIntoView({ block: 'center' });
    setTimeout(schedule, HIGHLIGHT_MS + 20);
  } else if (S.scrollTo && switched) {
    // its page is still coming: stay at the top of what is there
  } else if (switched || S.stickOnce || (wasAtBottom && !S.gapShown)) {
    box.scrollTop = box.scrollHeight;
  } else if (anchor) {
    const node = box.querySelector(`li.msg[data-id="${anchor.id}"]`);
    if (node) box.scrollTop += node.offsetTop - anchor.top; // older ones came in above
  }
  S.stickOnce = false;
  S.gapShown = Boolean(r.gapAfter);
  if (atBottom() && r.gapAfter) loadNewer(r);
  else if (atBottom()) {
    S.newBelow = false;
    markRead(r);
  }
  $('new-pill').hidden = !S.newBelow;
  $('typing').textContent = typingText(typingNames(r.name));
  if (S.focusAfter) {
    box.querySelector(S.focusAfter)?.focus();
    S.focusAfter = null;
  }

  const other = S.direct.get(r.name);
  $('room-title').textContent = other ? `@${other}` : `#${r.name}`;
  renderRoomSettings(r);
  $('me').textContent = S.me;
  const rooms = S.order.map((name) => {
    const x = room(name);
    return { name, direct: S.direct.get(name), unread: unreadCount(x, isMe), mentions: mentionCount(x, isMe, S.me), ready: x.joined && !x.fresh };
  });
  renderRooms($('rooms'), rooms, S.current, pickRoom);
  renderOnline($('online'), $('online-count'), S.online, S.me,
    S.features.direct ? (name) => openDirect(name, pickRoom) : null);
  $('admin-open').hidden = !S.admin;
  ui.renderAdmin();
  const total = rooms.reduce((n, x) => n + x.unread, 0);
  document.title = total ? `(${total}) lanchat` : 'lanchat';
  renderBanner();
  saveSoon();
  // A page that does not fill the screen has no scrollbar to pull older ones;
  // not while a join's replay is still coming in (after a gap the room starts
  // again from it, and what it will hold is not known until "joined").
  if (r.joined && r.hasMore && box.scrollHeight <= box.clientHeight + TOP_SLACK_PX) loadOlder(r);
}

// The room's topic and read-only marker under its title (feature
// moderation); in a read-only room, a member's composer is off, and says why.
function renderRoomSettings(r) {
  const readOnly = S.features.moderation && r.readOnly;
  const topic = S.features.moderation ? r.topic : '';
  $('room-readonly').hidden = !readOnly;
  if ($('room-topic').textContent !== topic) {
    $('room-topic').textContent = topic;
    $('room-topic').title = topic;
    $('room-about').setAttribute('aria-expanded', 'false'); // a new topic starts on one line
  }
  $('room-about').hidden = !readOnly && !topic;
  const locked = readOnly && !S.admin;
  $('composer-input').disabled = locked;
  $('composer-send').disabled = locked;
  $('composer-locked').hidden = !locked;
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
    // an admin may delete anyone's (not a mirrored one: that is its origin's)
    if (!ownMessage(m, isMe) && !(S.admin && !m.node)) return [];
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

// The composer grows with its text, up to 160 px.
export function autogrow() {
  const input = $('composer-input');
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

let toastTimer = 0;
export function toast(text) {
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

// Each room's cache, for the rooms that changed since the last save.
export function saveRooms() {
  clearTimeout(saveTimer);
  saveTimer = 0;
  if (!S.me) return;
  for (const r of S.rooms.values()) {
    if (!r.dirty || r.gapAfter) continue; // a room with a gap keeps its last whole copy
    local.saveRoom(S.me, r.name, r);
    r.dirty = false;
  }
}

export function pickRoom(name) {
  if (S.current !== name) {
    S.current = name;
    S.confirmDelete = 0;
    S.newBelow = false;
  }
  toggleSidebar(false);
  schedule();
}

export function toggleSidebar(open) {
  $('chat').classList.toggle('sidebar-open', open);
  $('menu-button').setAttribute('aria-expanded', String(open));
}

Object.assign(ui, { schedule, toast, announce, atBottom });
