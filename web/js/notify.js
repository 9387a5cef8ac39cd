// notify - when the page raises a browser notification, and what the
// sidebar says about notifications. Pure functions (tests/web/test_logic.mjs);
// alerts.js does the asking and the showing.

export const BODY_MAX = 120; // characters of a message in a notification

// What notifications can do here, from the browser's facts:
//   supported: window.Notification exists; secure: window.isSecureContext;
//   permission: Notification.permission ('default' | 'granted' | 'denied');
//   wanted: the user turned them on in this browser (localStorage).
// Returns {state, text}: state 'unavailable' | 'denied' | 'ask' | 'on' | 'off',
// text the words the sidebar shows ('' when the toggle says enough).
export function notifyState({ supported, secure, permission, wanted, origin = '' }) {
  if (!secure) {
    const https = origin.startsWith('http:') ? ` open ${origin.replace(/^http:/, 'https:')}` : ' open this page over HTTPS';
    return { state: 'unavailable', text: `Notifications need HTTPS:${https} (see the trust page).` };
  }
  if (!supported) return { state: 'unavailable', text: 'This browser cannot show notifications.' };
  if (permission === 'denied') {
    return { state: 'denied', text: 'Notifications are blocked for this site; allow them in the browser\'s site settings.' };
  }
  if (!wanted) return { state: 'off', text: '' };
  return permission === 'granted' ? { state: 'on', text: '' } : { state: 'ask', text: '' };
}

// Whether a message that arrived live raises a notification: it calls for
// the reader (a mention or a direct message: room.js callsFor), the page is
// hidden, and notifications are on.
export const shouldNotify = ({ hidden, calls, state }) => hidden && calls && state === 'on';

// The notification of a message: title the room and the author, body the
// text cut to BODY_MAX characters.
export function notificationOf(roomName, m, direct = false) {
  const body = m.body.length > BODY_MAX ? `${m.body.slice(0, BODY_MAX - 1)}…` : m.body;
  return { title: direct ? m.author : `#${roomName}: ${m.author}`, body, tag: `lanchat-${roomName}` };
}
