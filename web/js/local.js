// local - what the page keeps in this browser's localStorage, per user:
// the outbox (messages not yet acknowledged by the server, kept across
// reloads until stored or discarded) and a short cache of each room's recent
// history, shown at once before the link is up. Storage can be full or
// forbidden (private mode): every write is tried, and a failure only costs
// the cache, never the page.

const PREFIX = 'lanchat.';
const CACHE_PER_ROOM = 100;

function read(key, fallback) {
  try {
    const text = localStorage.getItem(PREFIX + key);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(PREFIX + key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

function remove(key) {
  try {
    localStorage.removeItem(PREFIX + key);
  } catch {
    /* nothing kept, nothing to remove */
  }
}

const userKey = (user) => encodeURIComponent(user.toLowerCase());

export const local = {
  // GET /api/v1/server's last answer: its features and limits while the
  // server cannot be reached.
  server: () => read('server', null),
  saveServer: (info) => write('server', info),

  lastUser: () => read('user', null),
  setLastUser: (name) => (name ? write('user', name) : remove('user')),

  rooms: (user) => read(`rooms.${userKey(user)}`, ['general']),
  saveRooms: (user, names) => write(`rooms.${userKey(user)}`, names),

  // Notifications of mentions turned on in this browser (alerts.js).
  notify: () => read('notify', false) === true,
  saveNotify: (on) => write('notify', on),

  outbox: (user) => read(`outbox.${userKey(user)}`, []),
  saveOutbox: (user, entries) => write(`outbox.${userKey(user)}`, entries),

  // { messages: [...], hasMore, lastRead }
  room: (user, room) => read(`room.${userKey(user)}.${encodeURIComponent(room)}`, null),
  saveRoom(user, room, state) {
    const messages = state.messages.slice(-CACHE_PER_ROOM);
    const hasMore = state.hasMore || messages.length < state.messages.length;
    return write(`room.${userKey(user)}.${encodeURIComponent(room)}`,
      { messages, hasMore, lastRead: state.lastRead });
  },

  // Forgets everything of one user (logout).
  forget(user) {
    const mine = [`${PREFIX}outbox.${userKey(user)}`, `${PREFIX}rooms.${userKey(user)}`,
      `${PREFIX}room.${userKey(user)}.`];
    try {
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const key = localStorage.key(i);
        if (key && mine.some((m) => key === m || (m.endsWith('.') && key.startsWith(m)))) {
          localStorage.removeItem(key);
        }
      }
    } catch {
      /* storage unavailable: nothing kept */
    }
  },
};

// A client message id for an idempotent send (API: 1-64 of A-Za-z0-9._:-).
// crypto.getRandomValues works without a secure context, unlike randomUUID.
export function newCid() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `w${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
