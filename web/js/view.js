// view - builds the DOM of the chat from the page's state. Message text is
// only ever set as text nodes (never HTML); http(s) URLs become links that
// open in a new tab without referrer or opener, and @names are marked.

import { ownMessage } from './room.js';
import { dayLabel, linkParts, mentionParts, sameDay, sameName } from './text.js';

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role') node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// Text with its URLs as links and its @names marked (class "mention", and
// "me" too when it names `me`), as a fragment of text nodes, <a>s and <mark>s.
export function linkify(text, me = null) {
  const out = document.createDocumentFragment();
  for (const part of linkParts(text)) {
    if (part.href) {
      out.append(el('a', { href: part.href, target: '_blank', rel: 'noopener noreferrer', text: part.url }));
      continue;
    }
    for (const p of mentionParts(part.text)) {
      const mine = p.mention && me !== null && sameName(p.mention, me);
      out.append(p.mention ? el('mark', { class: mine ? 'mention me' : 'mention', 'data-mention': p.mention, text: p.text })
        : p.text);
    }
  }
  return out;
}

const timeOf = (date) => date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

const STATE_TEXT = {
  pending: 'Waiting to send',
  sending: 'Sending…',
  sent: 'Sent',
  failed: 'Not sent',
};

// One message: a stored one ({id, author, body, ts}) or an outbox entry
// ({cid, body, created, state, error}). `own` picks the side and colour.
function messageItem(m, own, actions, me, highlight) {
  const date = new Date(m.ts ?? m.created);
  const state = m.id ? 'sent' : m.state;
  const item = el('li', {
    class: `msg${own ? ' own' : ''}${highlight && m.id === highlight ? ' highlight' : ''}`,
    'data-id': m.id ?? null,
    'data-cid': m.cid ?? null,
    'data-state': own ? state : null,
  });
  const meta = el('div', { class: 'meta' },
    el('span', { class: 'author', text: m.author }),
    m.node ? el('span', { class: 'node', text: `@${m.node}`, title: `Written on the appliance ${m.node}` }) : null,
    ' ',
    el('time', { dateTime: date.toISOString(), text: timeOf(date), title: date.toLocaleString() }));
  if (own) meta.append(' ', el('span', { class: 'state', text: STATE_TEXT[state] }));
  const body = el('div', { class: 'body' }, linkify(m.body, me));
  const bubble = el('div', { class: 'bubble' }, meta, body);
  if (own && state === 'failed') {
    bubble.append(el('p', { class: 'fail', text: m.error || 'The server refused this message.' }));
  }
  const buttons = actions(m, state);
  if (buttons.length) bubble.append(el('div', { class: 'actions' }, ...buttons));
  item.append(bubble);
  return item;
}

// The timeline of one room: day separators, stored messages, notices (by
// time) and then the outbox entries of this room.
export function renderTimeline(list, { messages, notices, outbox, me, hasMore, loading, room, gap, highlight }, actions) {
  const frag = document.createDocumentFragment();
  frag.append(el('li', {
    class: 'history-edge',
    text: loading ? 'Loading older messages…' : hasMore ? 'Scroll up for older messages'
      : `This is the start of #${room}.`,
  }));
  let day = null;
  let n = 0;
  const addDay = (date) => {
    if (day && sameDay(day, date)) return;
    day = date;
    frag.append(el('li', { class: 'day', role: 'separator', text: dayLabel(date) }));
  };
  const addNotice = (notice) => {
    addDay(new Date(notice.ts));
    frag.append(el('li', { class: notice.kind ? `notice ${notice.kind}` : 'notice', text: notice.text }));
  };
  const isMe = (name) => sameName(name, me);
  for (const m of messages) {
    while (n < notices.length && notices[n].ts <= m.ts) addNotice(notices[n++]);
    addDay(new Date(m.ts));
    frag.append(messageItem(m, ownMessage(m, isMe), actions, me, highlight));
  }
  // Opened at an old message: newer ones come as the reader scrolls down;
  // notices and the outbox belong after them.
  if (gap) {
    frag.append(el('li', { class: 'history-edge newer', text: gap === 'loading' ? 'Loading newer messages…' : 'Scroll down for newer messages' }));
    list.replaceChildren(frag);
    return;
  }
  while (n < notices.length) addNotice(notices[n++]);
  for (const entry of outbox) {
    addDay(new Date(entry.created));
    frag.append(messageItem({ ...entry, author: me }, true, actions, me));
  }
  list.replaceChildren(frag);
}

// rooms: [{name, unread, mentions, ready}]; ready: joined and caught up
// (data-ready); mentions: the unread ones that name the reader, or all in a
// direct-message room (an "@" badge of their own).
export function renderRooms(list, rooms, current, onPick) {
  const count = (n) => (n > 99 ? '99+' : String(n));
  list.replaceChildren(...rooms.map(({ name, direct, unread, mentions, ready }) => {
    const shown = direct || name; // a direct conversation shows the other member
    const label = `${direct ? `conversation with ${direct}` : name}${unread ? `, ${unread} unread` : ''}${mentions ? `, ${mentions} for you` : ''}`;
    const button = el('button', {
      type: 'button',
      class: 'room',
      'data-room': name,
      'aria-current': name === current ? 'true' : null,
      'aria-label': label,
      'data-ready': ready ? 'true' : null,
    }, el('span', { class: 'hash', text: direct ? '@' : '#' }), el('span', { class: 'name', text: shown }));
    if (mentions) button.append(el('span', { class: 'mentions', text: `@${count(mentions)}` }));
    if (unread) button.append(el('span', { class: 'unread', text: count(unread) }));
    button.addEventListener('click', () => onPick(name));
    return el('li', {}, button);
  }));
}

// onTalk(name): another user's name is a button that opens a direct conversation.
export function renderOnline(list, count, names, me, onTalk = null) {
  count.textContent = `(${names.length})`;
  list.replaceChildren(...names.map((name) => {
    if (sameName(name, me)) return el('li', { class: 'self', text: name });
    if (!onTalk) return el('li', { text: name }); // a build without direct messages
    const button = el('button', {
      type: 'button', class: 'talk', 'data-user': name, 'aria-label': `Message ${name} privately`, text: name,
    });
    button.addEventListener('click', () => onTalk(name));
    return el('li', {}, button);
  }));
}
