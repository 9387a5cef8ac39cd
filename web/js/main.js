// main - boots the page and wires it: the server's features and limits
// (GET /api/v1/server, or the last ones seen while it cannot be reached),
// the service worker, the session or the join screen, and every control's
// event to the module that acts on it. The page's parts:
//   state.js    the shared state          chat.js     link, frames, outbox, history
//   session.js  join screen, logout       render.js   drawing the chat from the state
//   rules.js    the server's limits       room.js, outbox.js, text.js  pure logic
//   view.js     DOM building              api.js, link.js, local.js  REST, WebSocket, storage
//   search.js   the sidebar's search      admin.js    the admin view (moderation),
//                                                     loaded when an admin opens it
//                                         alerts.js, notify.js  notifications

import { wireAlerts } from './alerts.js';
import { api } from './api.js';
import { link, loadNewer, loadOlder, queue, refreshRooms, setRooms, typed } from './chat.js';
import { local } from './local.js';
import { TOP_SLACK_PX, atBottom, autogrow, pickRoom, render, saveRooms, schedule, toggleSidebar } from './render.js';
import { bodyProblem, nameProblem } from './rules.js';
import { wireSearch } from './search.js';
import { OFFLINE_TEXT, applyServer, enterChat, loginError, logout, showLogin, submitLogin } from './session.js';
import { S, room, ui } from './state.js';

const $ = (id) => document.getElementById(id);
const ROOMS_POLL_MS = 60000; // rooms mirrored from other appliances (a "rooms" frame tells of the others)

// The admin view (admin.js) is loaded when an admin first opens it: it is
// not part of a first visit, nor of the service worker's copy (every act of
// it needs the server).
let adminView = null;
async function openAdmin() {
  if (!S.admin) return;
  try {
    adminView ??= import('./admin.js').then((m) => {
      m.wireAdmin();
      return m;
    });
    (await adminView).openAdmin();
  } catch {
    adminView = null;
    ui.toast('The admin view cannot be loaded: the server cannot be reached.');
  }
}

function composerError(text) {
  $('composer-error').textContent = text;
  $('composer-input').setAttribute('aria-invalid', text ? 'true' : 'false');
}

function submitMessage() {
  const input = $('composer-input');
  const text = input.value;
  if (!text.trim()) return;
  const problem = bodyProblem(text, S.limits);
  if (problem) {
    composerError(problem);
    return;
  }
  composerError('');
  input.value = '';
  autogrow();
  queue(text);
}

async function createRoom(event) {
  event.preventDefault();
  const input = $('room-name');
  const name = input.value.trim();
  const problem = nameProblem(name, S.limits);
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
  $('room-about').addEventListener('click', (e) => {
    const about = e.currentTarget;
    about.setAttribute('aria-expanded', String(about.getAttribute('aria-expanded') !== 'true'));
  });
  $('room-form').addEventListener('submit', createRoom);
  wireSearch();
  $('admin-open').addEventListener('click', openAdmin);
  wireAlerts();
  $('new-pill').addEventListener('click', () => {
    S.stickOnce = true;
    render();
  });
  const box = $('messages');
  box.addEventListener('scroll', () => {
    if (!S.me) return;
    const r = room(S.current);
    if (box.scrollTop < TOP_SLACK_PX) loadOlder(r);
    if (r.gapAfter && atBottom()) loadNewer(r); // opened at a search result: on towards the newest
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
    if (input.value.trim()) typed();
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

async function boot() {
  wire();
  // Service workers need a secure context (HTTPS or localhost); the page
  // works the same without one.
  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker.register('/sw.js').catch(() => {});
  }
  let info = null;
  try {
    info = await api.server();
    local.saveServer(info);
  } catch {
    info = local.server(); // unreachable: what it said last time, if it ever did
  }
  applyServer(info);
  try {
    const session = await api.session();
    enterChat(session.user.name, session.user.admin);
  } catch (e) {
    const last = local.lastUser();
    if (e.code === 'offline' && last) enterChat(last); // the cache and outbox, until the server is back
    else showLogin(e.code === 'offline' ? OFFLINE_TEXT : '');
  }
}

boot();
