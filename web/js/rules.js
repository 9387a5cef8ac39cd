// rules - what the server accepts, as the page checks it before sending:
// the limits of GET /api/v1/server (names, passwords, bodies, pages of
// history), the wording of each refusal, and the shape of the frames and
// messages the page takes in. Pure functions (tests/web/test_logic.mjs).

// The limits of a server that has not answered yet and never did in this
// browser (the page keeps the last ones it saw; local.js).
export const DEFAULT_LIMITS = Object.freeze({
  body_bytes: 2000,
  name_chars: 32,
  name_pattern: '^[A-Za-z0-9_.-]{1,32}$',
  password_min_bytes: 8,
  page_messages: 50,
  page_messages_max: 200,
});

const positive = (n) => Number.isSafeInteger(n) && n > 0;

function compiles(pattern) {
  try {
    new RegExp(pattern); // eslint-disable-line no-new
    return true;
  } catch {
    return false;
  }
}

// The server's limits ({...} of GET /api/v1/server, or of its last answer),
// each taken when it makes sense, else `fallback`'s; with nameRe compiled.
export function limitsFrom(given, fallback = DEFAULT_LIMITS) {
  const out = { ...fallback };
  if (given && typeof given === 'object') {
    for (const key of ['body_bytes', 'name_chars', 'password_min_bytes', 'page_messages', 'page_messages_max']) {
      if (positive(given[key])) out[key] = given[key];
    }
    if (typeof given.name_pattern === 'string' && compiles(given.name_pattern)) out.name_pattern = given.name_pattern;
  }
  out.nameRe = new RegExp(out.name_pattern);
  return out;
}

export const utf8Bytes = (text) => new TextEncoder().encode(text).length;

export const validName = (name, limits) => typeof name === 'string' && limits.nameRe.test(name);

// What is wrong with a name typed for a user or a room, or ''.
export function nameProblem(name, limits) {
  if (!name) return 'Type a nickname.';
  if (!validName(name, limits)) return `Use 1–${limits.name_chars} letters, digits, “_”, “.” or “-” (no spaces).`;
  return '';
}

export function passwordProblem(password, limits) {
  const min = limits.password_min_bytes;
  return utf8Bytes(password) < min ? `Pick a password of at least ${min} characters.` : '';
}

export function bodyProblem(text, limits) {
  const bytes = utf8Bytes(text);
  if (bytes <= limits.body_bytes) return '';
  return `This message is ${bytes} bytes long; the limit is ${limits.body_bytes}. Shorten it or send it in parts.`;
}

// The reason shown on a message the server refused.
export function refusalText(code, message, limits) {
  if (code === 'too_large') return `Too long: at most ${limits.body_bytes} bytes.`;
  if (code === 'not_found') return 'This room does not exist on the server.';
  return message ? `Not sent: ${message}.` : 'The server refused this message.';
}

// A refusal the outbox waits out and sends again (busy, not wrong).
export const isBusy = (code) => code === 'rate_limited' || code === 'unavailable';

// A stored message as the page keeps it.
export const validMessage = (m) => Boolean(m) && Number.isSafeInteger(m.id) && typeof m.body === 'string'
  && typeof m.author === 'string' && Number.isFinite(m.ts);

// A WebSocket text frame as an object with a type, or null.
export function parseFrame(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return null;
  }
  return frame && typeof frame === 'object' && typeof frame.type === 'string' ? frame : null;
}
