// search - the sidebar's search of every room's messages (GET /api/v1/search,
// feature search): results newest first, each with its room, author and
// time, the words searched for marked (<mark> around text nodes, never
// HTML); older results on demand; a result opens its room at that message
// (chat.js openAt: the history around it, scrolled to and marked).

import { api } from './api.js';
import { openAt, setRooms } from './chat.js';
import { pickRoom } from './render.js';
import { S } from './state.js';
import { markParts } from './text.js';
import { el } from './view.js';

const $ = (id) => document.getElementById(id);
const PAGE = 20;

let shown = { q: '', last: 0, count: 0 };
let asked = 0; // the newest request: an older answer that comes late is dropped

function marked(body, q) {
  const div = el('div', { class: 'body' });
  for (const part of markParts(body, q)) div.append(part.mark ? el('mark', { text: part.text }) : part.text);
  return div;
}

function open(name, id) {
  if (!S.order.includes(name)) setRooms([...S.order, name]);
  pickRoom(name);
  openAt(name, id);
}

function hit(m, q) {
  const date = new Date(m.ts);
  const button = el('button', { type: 'button', class: 'search-hit', 'data-id': m.id, 'data-room': m.room },
    el('div', { class: 'meta' },
      el('span', { class: 'room-name', text: `#${m.room}` }), ' ',
      el('span', { class: 'author', text: m.author }), ' ',
      el('time', { dateTime: date.toISOString(), text: date.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) })),
    marked(m.body, q));
  button.addEventListener('click', () => open(m.room, m.id));
  return el('li', {}, button);
}

function status(text) {
  $('search-status').textContent = text;
}

async function run(q, before) {
  const ticket = ++asked;
  $('search-error').textContent = '';
  $('search-input').setAttribute('aria-invalid', 'false');
  status('Searching…');
  let page;
  try {
    page = await api.search(q, before, PAGE);
  } catch (e) {
    if (ticket !== asked) return;
    status('');
    $('search-error').textContent = e.code === 'offline' ? 'Search needs the server; try again when it is back.'
      : e.message;
    if (e.code === 'bad_request') $('search-input').setAttribute('aria-invalid', 'true');
    return;
  }
  if (ticket !== asked) return;
  const list = $('search-results');
  if (!before) {
    list.replaceChildren();
    shown = { q, last: 0, count: 0 };
  }
  list.append(...page.messages.map((m) => hit(m, q)));
  shown.count += page.messages.length;
  if (page.messages.length) shown.last = page.messages[page.messages.length - 1].id;
  $('search-more').hidden = !page.has_more;
  status(shown.count ? `${shown.count}${page.has_more ? '+' : ''} found` : 'Nothing found.');
}

export function clearSearch() {
  asked++;
  shown = { q: '', last: 0, count: 0 };
  $('search-input').value = '';
  $('search-error').textContent = '';
  status('');
  $('search-results').replaceChildren();
  $('search-more').hidden = true;
}

export function wireSearch() {
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const q = $('search-input').value.trim();
    if (!q) {
      clearSearch();
      return;
    }
    run(q, 0);
  });
  $('search-more').addEventListener('click', () => {
    if (shown.q && shown.last) run(shown.q, shown.last);
  });
}
