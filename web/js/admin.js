// admin - the admin view (feature moderation; only for a session whose
// account is an admin, S.admin): the current room's topic and read-only
// flag; who is online, each with Mute (for 5 min, 1 h or 1 day), Unmute,
// Kick and Ban; the bans (names and client addresses) and the reserved names, each
// with its removal, and a form to add one; a download of the database's
// backup; the audit log, newest first, with older pages on demand. Built of
// text nodes only; every refusal of the server is shown in words in its
// status line.

import { api } from './api.js';
import { nameProblem, utf8Bytes } from './rules.js';
import { S, ui } from './state.js';
import { durationText, sameName } from './text.js';
import { el } from './view.js';

const $ = (id) => document.getElementById(id);
const AUDIT_PAGE = 20;
const MUTE_CHOICES = [300, 3600, 86400];
const TOPIC_MAX_BYTES = 200; // the server's CHAT_TOPIC_MAX

let shownUsers = null; // the online list last drawn (a redraw would reset the choices)
let audit = { entries: [], hasMore: false, asked: 0 };
let listsAsked = 0; // the bans and reserved names: the newest request's ticket
let shownRoom = { name: null, topic: null }; // the room settings last drawn

function status(text) {
  $('admin-status').textContent = text;
}

const isOpen = () => $('admin').open;

const refusal = (what, e) => (e.code === 'offline' ? `${what}: the server cannot be reached.` : `${what}: ${e.message}`);

// Does call(); the status line says `done`, or `what` and the server's refusal.
// Whether it was done.
async function act(what, done, call) {
  status('…');
  try {
    await call();
  } catch (e) {
    if (e.status === 401) ui.sessionEnded();
    status(refusal(what, e));
    return false;
  }
  status(done);
  loadAudit(); // the act's entry
  return true;
}

const isDirectRoom = (name) => S.direct.has(name) || name.startsWith('@');

// The current room's settings (not a direct conversation's: it has none);
// the topic field follows the room's topic unless it is being edited.
function drawRoom() {
  const name = S.current;
  const r = S.rooms.get(name);
  const direct = isDirectRoom(name);
  $('admin-room-heading').textContent = direct ? 'This conversation' : `This room: #${name}`;
  $('admin-room-form').hidden = direct;
  $('admin-room-direct').hidden = !direct;
  const topic = r ? r.topic : '';
  const input = $('admin-topic');
  if ((shownRoom.name !== name || shownRoom.topic !== topic) && document.activeElement !== input) {
    input.value = topic;
    shownRoom = { name, topic };
  }
  const box = $('admin-readonly');
  if (!box.disabled) box.checked = Boolean(r && r.readOnly); // not while a change is on its way
}

async function submitTopic(event) {
  event.preventDefault();
  const name = S.current;
  if (isDirectRoom(name)) return;
  const topic = $('admin-topic').value.trim();
  if (utf8Bytes(topic) > TOPIC_MAX_BYTES) {
    status(`The topic is ${utf8Bytes(topic)} bytes long; the limit is ${TOPIC_MAX_BYTES}.`);
    return;
  }
  const done = await act(`The topic of #${name} is unchanged`,
    topic ? `The topic of #${name} is set.` : `The topic of #${name} is cleared.`,
    () => api.setRoom(name, { topic }));
  const r = S.rooms.get(name);
  if (done && r) {
    r.topic = topic; // the moderation frame will confirm it
    $('admin-topic').value = topic;
    shownRoom = { name, topic };
    ui.schedule();
  }
}

async function toggleReadOnly() {
  const name = S.current;
  const box = $('admin-readonly');
  const on = box.checked;
  box.disabled = true;
  const done = await act(`#${name} is unchanged`,
    on ? `#${name} is read-only: only admins may post.` : `Everyone may post in #${name} again.`,
    () => api.setRoom(name, { read_only: on }));
  box.disabled = false;
  const r = S.rooms.get(name);
  if (done && r) r.readOnly = on;
  box.checked = Boolean(r && r.readOnly);
  ui.schedule();
}

const whenBy = (x) => {
  const date = new Date(x.ts);
  return `by ${x.by}, ${date.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}`;
};

const banWhat = (kind, value) => (kind === 'address' ? `The address ${value}` : `${value}`);

function banItem(b) {
  const what = banWhat(b.kind, b.value);
  return el('li', { 'data-ban': b.kind, 'data-value': b.value },
    el('span', { class: 'name', text: b.kind === 'address' ? `address ${b.value}` : `name ${b.value}` }),
    el('span', { class: 'meta', text: whenBy(b) }),
    el('button', {
      type: 'button', class: 'act', text: 'Lift', 'data-action': 'unban', 'aria-label': `Lift the ban on ${b.value}`,
      onclick: async () => {
        if (await act(`${what} is still banned`, `${what} is no longer banned.`, () => api.unban(b.kind, b.value))) loadLists();
      },
    }));
}

function reservedItem(x) {
  return el('li', { 'data-reserved': x.name },
    el('span', { class: 'name', text: x.name }),
    el('span', { class: 'meta', text: whenBy(x) }),
    el('button', {
      type: 'button', class: 'act', text: 'Release', 'data-action': 'unreserve', 'aria-label': `Release the name ${x.name}`,
      onclick: async () => {
        if (await act(`${x.name} is still reserved`, `${x.name} is no longer reserved.`, () => api.unreserve(x.name))) loadLists();
      },
    }));
}

// The bans and the reserved names, as the server has them now.
async function loadLists() {
  if (!isOpen()) return;
  const ticket = ++listsAsked;
  let bans;
  let reserved;
  try {
    [bans, reserved] = await Promise.all([api.bans(), api.reserved()]);
  } catch (e) {
    if (e.status === 401) ui.sessionEnded();
    if (ticket === listsAsked) status(refusal('The bans could not be read', e));
    return;
  }
  if (ticket !== listsAsked) return; // a newer request is on its way
  $('admin-bans').replaceChildren(...(bans.bans.length ? bans.bans.map(banItem)
    : [el('li', { class: 'hint', text: 'Nobody is banned.' })]));
  $('admin-reserved').replaceChildren(...(reserved.reserved.length ? reserved.reserved.map(reservedItem)
    : [el('li', { class: 'hint', text: 'No name is reserved.' })]));
}

async function submitBan(event) {
  event.preventDefault();
  const kind = $('admin-ban-kind').value;
  const input = $('admin-ban-value');
  const value = input.value.trim();
  const problem = !value ? `Type the ${kind === 'address' ? 'address' : 'name'} to ban.`
    : kind === 'name' ? nameProblem(value, S.limits) : '';
  if (problem) {
    status(problem);
    input.focus();
    return;
  }
  const what = banWhat(kind, value);
  if (await act(`${what} is not banned`, `${what} is banned.`, () => api.ban(kind, value))) {
    input.value = '';
    loadLists();
  }
}

async function submitReserve(event) {
  event.preventDefault();
  const input = $('admin-reserve-name');
  const name = input.value.trim();
  const problem = name ? nameProblem(name, S.limits) : 'Type the name to reserve.';
  if (problem) {
    status(problem);
    input.focus();
    return;
  }
  if (await act(`${name} is not reserved`, `${name} is reserved.`, () => api.reserve(name))) {
    input.value = '';
    loadLists();
  }
}

function userItem(name) {
  const choice = el('select', { 'aria-label': `Mute ${name} for`, 'data-choice': name },
    ...MUTE_CHOICES.map((s) => el('option', { value: String(s), text: durationText(s) })));
  const button = (text, action, onclick) => el('button', { type: 'button', class: 'act', text, 'data-action': action, onclick });
  // a ban lasts until it is lifted: the first click asks
  const ban = button('Ban', 'ban', async () => {
    if (ban.dataset.confirm !== 'yes') {
      ban.dataset.confirm = 'yes';
      ban.textContent = 'Really ban?';
      return;
    }
    if (await act(`${name} is not banned`, `${name} is banned.`, () => api.ban('name', name))) loadLists();
  });
  return el('li', { 'data-user': name },
    el('span', { class: 'name', text: name }),
    choice,
    button('Mute', 'mute', () => {
      const seconds = Number(choice.value);
      act(`${name} is not muted`, `${name} is muted for ${durationText(seconds)}.`, () => api.mute(name, seconds));
    }),
    button('Unmute', 'unmute', () => act(`${name} is not unmuted`, `${name} is no longer muted.`, () => api.mute(name, 0))),
    button('Kick', 'kick', () => act(`${name} is not removed`, `${name} was removed (logged out).`, () => api.kick(name))),
    ban);
}

// Called by every redraw of the chat: the room's settings, and the online
// list when it changed.
export function renderAdmin() {
  if (!isOpen()) return;
  drawRoom();
  const others = S.online.filter((n) => !sameName(n, S.me));
  const key = others.join('\n');
  if (key === shownUsers) return;
  shownUsers = key;
  $('admin-users').replaceChildren(...(others.length ? others.map(userItem)
    : [el('li', { class: 'hint', text: 'Nobody else is online.' })]));
}

function auditItem(a) {
  const date = new Date(a.ts);
  return el('li', { 'data-audit': a.id, 'data-action': a.action },
    el('time', { dateTime: date.toISOString(), text: date.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) }), ' ',
    el('span', { class: 'actor', text: a.actor }), ' ',
    el('span', { class: 'action', text: a.action }), a.target ? ' ' : null,
    a.target ? el('span', { class: 'target', text: a.target }) : null, a.detail ? ' ' : null,
    a.detail ? el('span', { class: 'detail', text: `(${a.detail})` }) : null);
}

function drawAudit() {
  $('admin-audit').replaceChildren(...(audit.entries.length ? audit.entries.map(auditItem)
    : [el('li', { class: 'hint', text: 'Nothing has been done yet.' })]));
  $('admin-older').hidden = !audit.hasMore;
}

// The newest page (older: the page before the last entry shown).
async function loadAudit(older = false) {
  if (!isOpen()) return;
  const ticket = ++audit.asked;
  const last = audit.entries[audit.entries.length - 1];
  let page;
  try {
    page = await api.audit(older && last ? last.id : 0, AUDIT_PAGE);
  } catch (e) {
    if (e.status === 401) ui.sessionEnded();
    if (ticket === audit.asked) status(refusal('The audit log could not be read', e));
    return;
  }
  if (ticket !== audit.asked) return; // a newer request is on its way
  audit.entries = older ? [...audit.entries, ...page.entries] : page.entries;
  audit.hasMore = page.has_more;
  drawAudit();
}

async function downloadBackup() {
  status('Making a backup…');
  $('admin-backup').disabled = true;
  try {
    const { blob, name } = await api.backup();
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    status(`Backup downloaded: ${name}.`);
    loadAudit(); // its entry
  } catch (e) {
    if (e.status === 401) ui.sessionEnded();
    status(refusal('No backup', e));
  } finally {
    $('admin-backup').disabled = false;
  }
}

export function openAdmin() {
  if (!S.admin) return;
  shownUsers = null;
  shownRoom = { name: null, topic: null };
  audit = { entries: [], hasMore: false, asked: audit.asked };
  status('');
  $('admin-bans').replaceChildren();
  $('admin-reserved').replaceChildren();
  $('admin').showModal();
  renderAdmin();
  drawAudit();
  loadAudit();
  loadLists();
}

export function closeAdmin() {
  if (isOpen()) $('admin').close();
}

// Called once, when main.js has loaded this module.
export function wireAdmin() {
  $('admin-close').addEventListener('click', closeAdmin);
  $('admin-older').addEventListener('click', () => loadAudit(true));
  $('admin-backup').addEventListener('click', downloadBackup);
  $('admin-room-form').addEventListener('submit', submitTopic);
  $('admin-readonly').addEventListener('change', toggleReadOnly);
  $('admin-ban-form').addEventListener('submit', submitBan);
  $('admin-reserve-form').addEventListener('submit', submitReserve);
  ui.renderAdmin = renderAdmin;
  ui.closeAdmin = closeAdmin;
  ui.moderated = (f) => {
    loadAudit();
    if (f && ['ban', 'unban', 'reserve', 'unreserve'].includes(f.action)) loadLists();
  };
}
