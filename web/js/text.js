// text - words of the page that need no DOM: URLs found in a message, the
// words a search marks in one, day labels, plurals, name comparison. Pure
// functions (tests/web/test_logic.mjs runs them in node).

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/g;
const TRAILING = /[.,;:!?'"]+$/;

// The text as parts: {text} and {url, href} for each http(s) URL in it.
// Trailing punctuation is not part of a URL, nor a closing parenthesis the
// URL did not open.
export function linkParts(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let url = match[0].replace(TRAILING, '');
    while (url.endsWith(')') && (url.match(/\(/g) || []).length < (url.match(/\)/g) || []).length) {
      url = url.slice(0, -1);
    }
    let href;
    try {
      href = new URL(url).href;
    } catch {
      continue;
    }
    parts.push({ text: text.slice(last, match.index) });
    parts.push({ url, href });
    last = match.index + url.length;
  }
  parts.push({ text: text.slice(last) });
  return parts;
}

// "@name" in a text: at the start or after a character that is not part of a
// name (so "a@b.org" is no mention), the name's characters as the server's
// names allow them; a final "." ends the sentence, not the name.
const MENTION_RE = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]+)/g;

// The text as parts: {text} and {mention: name, text: "@name"}.
export function mentionParts(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(MENTION_RE)) {
    const name = match[2].replace(/\.+$/, '');
    if (!name) continue;
    const at = match.index + match[1].length;
    if (at > last) parts.push({ text: text.slice(last, at) });
    parts.push({ mention: name, text: `@${name}` });
    last = at + 1 + name.length;
  }
  if (last < text.length || !parts.length) parts.push({ text: text.slice(last) });
  return parts;
}

// Whether the text mentions `name` ("@name", without case), by the rule of
// mentionParts: the mark the viewer sees and the count in the sidebar agree.
export const mentions = (text, name) => name !== null && name !== undefined
  && mentionParts(text).some((p) => p.mention && p.mention.toLowerCase() === name.toLowerCase());

export const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth()
  && a.getDate() === b.getDate();

// "Today", "Yesterday", else the weekday and date (with the year when it is
// not this one), in the reader's language.
export function dayLabel(date, now = new Date()) {
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(date, now)) return 'Today';
  if (sameDay(date, yesterday)) return 'Yesterday';
  const opts = { weekday: 'long', day: 'numeric', month: 'long' };
  if (date.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return date.toLocaleDateString(undefined, opts);
}

export const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// A word as FTS5's unicode61 tokenizer compares it: without case or accents.
const folded = (word) => word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const WORD_RE = /[\p{L}\p{N}]+/gu;
const OPERATORS = new Set(['AND', 'OR', 'NOT', 'NEAR']);

// The text as parts {text, mark}: mark for each word the search asked for
// (a word of the query, or one it starts with where the query's word ends
// in *). Operators and punctuation of the query are not words to mark.
export function markParts(text, query) {
  const terms = [];
  for (const match of query.matchAll(/[\p{L}\p{N}]+\*?/gu)) {
    const word = match[0];
    if (OPERATORS.has(word)) continue;
    const prefix = word.endsWith('*');
    terms.push({ word: folded(prefix ? word.slice(0, -1) : word), prefix });
  }
  const marked = (word) => {
    const f = folded(word);
    return terms.some((t) => (t.prefix ? f.startsWith(t.word) : f === t.word));
  };
  const parts = [];
  const push = (piece, mark) => {
    if (!piece) return;
    const last = parts[parts.length - 1];
    if (last && last.mark === mark) last.text += piece;
    else parts.push({ text: piece, mark });
  };
  let at = 0;
  for (const match of text.matchAll(WORD_RE)) {
    push(text.slice(at, match.index), false);
    push(match[0], marked(match[0]));
    at = match.index + match[0].length;
  }
  push(text.slice(at), false);
  return parts;
}

// Names compare without case, as the server compares them.
export const sameName = (a, b) => a.toLowerCase() === b.toLowerCase();

// The line under the timeline for the names typing now (in the order given).
export function typingText(names) {
  if (!names.length) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'several people are typing…';
}
export const byName = (a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' });

// A message as a screen reader announces it: at most 140 characters.
export const spoken = (author, body) => `${author}: ${body.length > 140 ? `${body.slice(0, 140)}…` : body}`;

// A span of seconds in words: "10 minutes", "1 hour", "1 day", "90 seconds".
export function durationText(seconds) {
  const units = [[86400, 'day', 'days'], [3600, 'hour', 'hours'], [60, 'minute', 'minutes']];
  for (const [size, one, many] of units) {
    if (seconds >= size && seconds % size === 0) return plural(seconds / size, one, many);
  }
  return plural(seconds, 'second', 'seconds');
}

// A "moderation" frame ({action, user, by, seconds}) in words, or null for
// one this page does not know. A ban's `user` is a name or a client address
// (the frame does not say which); a room's is the room's name.
export function moderationText(f) {
  if (!f || typeof f.user !== 'string' || typeof f.by !== 'string') return null;
  if (f.action === 'mute' && Number.isSafeInteger(f.seconds) && f.seconds > 0) {
    return `${f.by} muted ${f.user} for ${durationText(f.seconds)}`;
  }
  switch (f.action) {
    case 'mute':
    case 'unmute': return `${f.by} unmuted ${f.user}`;
    case 'kick': return `${f.by} removed ${f.user}`;
    case 'ban': return `${f.by} banned ${f.user}`;
    case 'unban': return `${f.by} lifted the ban on ${f.user}`;
    case 'reserve': return `${f.by} reserved the name ${f.user}`;
    case 'unreserve': return `${f.by} released the name ${f.user}`;
    case 'room': return `${f.by} changed the topic or read-only setting of #${f.user}`;
    default: return null;
  }
}
