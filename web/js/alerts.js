// alerts - browser notifications of mentions and direct messages while the
// page is hidden: the sidebar's "Notify me of mentions" toggle (the browser
// is asked for permission only when it is turned on, a user gesture; the
// choice is kept in localStorage), the words saying why notifications are
// unavailable or blocked, and a notification whose click opens its room
// (shown by the service worker where there is one, else by the page).
// When to notify is notify.js's.

import { local } from './local.js';
import { notificationOf, notifyState, shouldNotify } from './notify.js';
import { pickRoom } from './render.js';
import { callsFor } from './room.js';
import { S, isMe, ui } from './state.js';

const $ = (id) => document.getElementById(id);

function facts() {
  const supported = typeof window.Notification === 'function';
  return {
    supported,
    secure: window.isSecureContext === true,
    permission: supported ? window.Notification.permission : 'default',
    wanted: local.notify(),
    origin: location.origin,
  };
}

let current = { state: 'off', text: '' };

// The toggle and its words, from the browser's facts now (a permission can
// change in the browser's settings while the page is open).
export function updateNotify() {
  current = notifyState(facts());
  const box = $('notify-toggle');
  box.checked = current.state === 'on' || current.state === 'ask';
  box.disabled = current.state === 'unavailable' || current.state === 'denied';
  $('notify-status').textContent = current.text;
  $('notify').dataset.state = current.state;
}

async function toggled() {
  const on = $('notify-toggle').checked;
  local.saveNotify(on);
  if (on && typeof window.Notification === 'function' && window.Notification.permission === 'default') {
    try {
      await window.Notification.requestPermission();
    } catch {
      /* an old browser's callback form: the permission is read below */
    }
  }
  updateNotify();
}

// Shown by the service worker where there is one: Chrome on Android shows
// no other kind (its Notification constructor throws). Without a worker, or
// where it cannot show one (firefox headless, a permission the stub of a
// test grants but the browser does not), the page's own Notification.
async function shownByWorker(title, options) {
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    if (!reg?.showNotification) return false;
    await reg.showNotification(title, options);
    return true;
  } catch {
    return false;
  }
}

async function notify(r, m) {
  if (!shouldNotify({ hidden: document.visibilityState === 'hidden', calls: callsFor(r, m, isMe, S.me), state: current.state })) return;
  const { title, body, tag } = notificationOf(r.name, m, r.direct);
  // data.room: the worker's notificationclick tells the page which room to open
  if (await shownByWorker(title, { body, tag, data: { room: r.name } })) return;
  let n;
  try {
    n = new window.Notification(title, { body, tag });
  } catch {
    return; // neither kind can be shown here
  }
  n.onclick = () => {
    window.focus();
    pickRoom(r.name);
    n.close();
  };
}

// A click on a notification the worker showed: it asks this page to open
// the room (sw.js, openRoomOf).
function fromWorker(event) {
  const { type, room } = event.data || {};
  if (type !== 'open-room' || typeof room !== 'string' || !S.rooms.has(room)) return;
  window.focus();
  pickRoom(room);
}

export function wireAlerts() {
  $('notify-toggle').addEventListener('change', toggled);
  window.addEventListener('focus', updateNotify);
  document.addEventListener('visibilitychange', updateNotify);
  updateNotify();
  navigator.serviceWorker?.addEventListener('message', fromWorker);
  ui.notify = (r, m) => {
    notify(r, m).catch(() => {});
  };
}
