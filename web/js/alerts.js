// alerts - browser notifications of mentions and direct messages while the
// page is hidden: the sidebar's "Notify me of mentions" toggle (the browser
// is asked for permission only when it is turned on, a user gesture; the
// choice is kept in localStorage), the words saying why notifications are
// unavailable or blocked, and a notification whose click opens its room.
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

function notify(r, m) {
  if (!shouldNotify({ hidden: document.visibilityState === 'hidden', calls: callsFor(r, m, isMe, S.me), state: current.state })) return;
  const { title, body, tag } = notificationOf(r.name, m, r.direct);
  let n;
  try {
    n = new window.Notification(title, { body, tag });
  } catch {
    return; // Chrome on Android: only a service worker may show one
  }
  n.onclick = () => {
    window.focus();
    pickRoom(r.name);
    n.close();
  };
}

export function wireAlerts() {
  $('notify-toggle').addEventListener('change', toggled);
  window.addEventListener('focus', updateNotify);
  document.addEventListener('visibilitychange', updateNotify);
  updateNotify();
  ui.notify = notify;
}
