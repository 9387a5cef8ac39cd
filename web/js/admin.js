// admin - the admin view (feature moderation; only for a session whose
// account is an admin, S.admin): who is online, each with Mute (for 5 min,
// 1 h or 1 day), Unmute and Kick; a download of the database's backup; the
// audit log, newest first, with older pages on demand. Built of text nodes
// only; every refusal of the server is shown in words in its status line.

import { api } from './api.js';
import { S, ui } from './state.js';
import { durationText, sameName } from './text.js';
import { el } from './view.js';

const $ = (id) => document.getElementById(id);
const AUDIT_PAGE = 20;
const MUTE_CHOICES = [300, 3600, 86400];

let shownUsers = null; // the online list last drawn (a redraw would reset the choices)
let audit = { entries: [], hasMore: false, asked: 0 };

function status(text) {
  $('admin-status').textContent = text;
}

const isOpen = () => $('admin').open;

const refusal = (what, e) => (e.code === 'offline' ? `${what}: the server cannot be reached.` : `${what}: ${e.message}`);

async function act(what, done, call) {
  status('…');
  try {
    await call();
  } catch (e) {
    if (e.status === 401) ui.sessionEnded();
    status(refusal(what, e));
    return;
  }
  status(done);
  loadAudit(); // the act's entry
}

function userItem(name) {
  const choice = el('select', { 'aria-label': `Mute ${name} for`, 'data-choice': name },
    ...MUTE_CHOICES.map((s) => el('option', { value: String(s), text: durationText(s) })));
  const button = (text, action, onclick) => el('button', { type: 'button', class: 'act', text, 'data-action': action, onclick });
  return el('li', { 'data-user': name },
    el('span', { class: 'name', text: name }),
    choice,
    button('Mute', 'mute', () => {
      const seconds = Number(choice.value);
      act(`${name} is not muted`, `${name} is muted for ${durationText(seconds)}.`, () => api.mute(name, seconds));
    }),
    button('Unmute', 'unmute', () => act(`${name} is not unmuted`, `${name} is no longer muted.`, () => api.mute(name, 0))),
    button('Kick', 'kick', () => act(`${name} is not removed`, `${name} was removed (logged out).`, () => api.kick(name))));
}

// Called by every redraw of the chat: the online list, when it changed.
export function renderAdmin() {
  if (!isOpen()) return;
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

function open() {
  if (!S.admin) return;
  shownUsers = null;
  audit = { entries: [], hasMore: false, asked: audit.asked };
  status('');
  $('admin').showModal();
  renderAdmin();
  drawAudit();
  loadAudit();
}

export function closeAdmin() {
  if (isOpen()) $('admin').close();
}

export function wireAdmin() {
  $('admin-open').addEventListener('click', open);
  $('admin-close').addEventListener('click', closeAdmin);
  $('admin-older').addEventListener('click', () => loadAudit(true));
  $('admin-backup').addEventListener('click', downloadBackup);
  ui.moderated = () => loadAudit();
}
