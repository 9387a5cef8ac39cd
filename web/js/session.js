// session - joining and leaving: the join screen (name, password, register),
// entering the chat with a session (or, offline, with the last user's cache
// and outbox until the server is back), logging out, and a session that
// ended elsewhere. The server's features and limits shape the form.

import { api } from './api.js';
import { link, loadOutbox, setRooms } from './chat.js';
import { local } from './local.js';
import { render, saveRooms, toast } from './render.js';
import { limitsFrom, nameProblem, passwordProblem } from './rules.js';
import { S, settled, ui } from './state.js';
import { clearSearch } from './search.js';
import { plural } from './text.js';

const $ = (id) => document.getElementById(id);
export const OFFLINE_TEXT = 'The chat server cannot be reached. Check that this device is on the same network.';

// GET /api/v1/server's answer (or the last one this browser saw, while the
// server cannot be reached; or nothing): features and limits.
export function applyServer(info) {
  S.features = { ...S.features, ...(info && info.features) };
  S.limits = limitsFrom(info && info.limits);
  $('password-field').hidden = !S.features.accounts;
  $('register-submit').hidden = !S.features.accounts;
  $('room-form').hidden = !S.features.rooms;
  $('search-form').hidden = !S.features.search;
  $('admin-backup').hidden = !S.features.backups;
  const chars = String(S.limits.name_chars);
  $('login-name').maxLength = S.limits.name_chars;
  $('room-name').maxLength = S.limits.name_chars;
  $('login-name-max').textContent = chars;
}

function sessionEnded() {
  if (!S.me || S.loggingOut) return;
  const name = S.me;
  leaveChat();
  showLogin('Your session has ended. Join again to go on chatting.', name);
}

export function enterChat(name, admin = false) {
  S.me = name;
  S.admin = Boolean(admin) && S.features.moderation;
  local.setLastUser(name);
  S.rooms = new Map();
  S.direct = new Map();
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
  S.admin = false;
  S.up = false;
  clearSearch();
  ui.closeAdmin();
  $('chat').hidden = true;
}

export function showLogin(message = '', name = local.lastUser() || '') {
  $('login').hidden = false;
  $('chat').hidden = true;
  document.title = 'lanchat';
  const input = $('login-name');
  if (name && !input.value) input.value = name;
  loginError(message);
  input.focus();
}

export function loginError(message) {
  $('login-error').textContent = message;
  $('login-name').setAttribute('aria-invalid', message ? 'true' : 'false');
}

function loginRefusal(e, name, password) {
  switch (e.code) {
    case 'name_taken':
      // a name an admin reserved, or one in use
      if (/reserved/.test(e.message)) return `“${name}” is reserved. Pick another name.`;
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

let loginBusy = false;
export async function submitLogin(register) {
  if (loginBusy) return;
  const name = $('login-name').value.trim();
  const password = S.features.accounts ? $('login-password').value : '';
  const problem = nameProblem(name, S.limits) || (register ? passwordProblem(password, S.limits) : '');
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
    enterChat(res.user.name, res.user.admin);
  } catch (e) {
    loginError(loginRefusal(e, name, password));
    $('login-name').focus();
  } finally {
    loginBusy = false;
    $('login-submit').disabled = false;
  }
}

export async function logout() {
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

ui.sessionEnded = sessionEnded;
