// state - the state of the chat that the page's modules share: who is
// logged in, the rooms and their messages, the outbox, who is online, the
// link, and the server's features and limits. No DOM; the modules that draw
// the page (render.js, session.js) fill in `ui`, through which the others
// ask for a redraw, a toast or an announcement.

import { local } from './local.js';
import { Settled } from './outbox.js';
import { newRoom } from './room.js';
import { DEFAULT_LIMITS, limitsFrom } from './rules.js';
import { sameName } from './text.js';

export const S = {
  me: null,
  admin: false, // the session's account is an admin (feature moderation): the admin view and every Delete
  features: {
    accounts: false, rooms: false, search: false, moderation: false, direct: false, typing: false, backups: false,
  },
  limits: limitsFrom(null, DEFAULT_LIMITS),
  rooms: new Map(), // name → room (room.js)
  direct: new Map(), // a direct room's name ("@7") → the other member
  order: ['general'],
  current: 'general',
  online: [],
  notices: [], // {ts, text}: presence, kept for this page's life only
  typing: new Map(), // room → Map(user → ms until which "user is typing" shows)
  outbox: [], // {cid, room, body, created, state: pending|sending|failed, error}
  up: false,
  everUp: false,
  loggingOut: false,
  retryAt: 0,
  confirmDelete: 0,
  stickOnce: false, // scroll to the end on the next redraw (own message, room switch)
  newBelow: false, // others' messages arrived while the reader was scrolled up
  rendered: null, // the room the timeline shows
  focusAfter: null, // a selector to focus after the redraw
  scrollTo: 0, // a message to scroll to and mark on the next redraw that shows it (a search result)
  highlight: { id: 0, until: 0 }, // the message marked for a moment
  gapShown: false, // the last redraw ended at a gap (room.js gapAfter): newer pages keep the scroll
};

export const settled = new Settled(); // cids acknowledged or discarded in this page

export const isMe = (name) => S.me !== null && sameName(name, S.me);

// The room of that name, made (from its cached copy) on first use.
export function room(name) {
  let r = S.rooms.get(name);
  if (!r) {
    r = newRoom(name, local.room(S.me, name));
    S.rooms.set(name, r);
  }
  return r;
}

export const ui = {
  schedule() {}, // a redraw soon
  toast() {},
  announce() {},
  notify() {}, // a message arrived live (alerts.js decides)
  atBottom: () => true, // the reader sees the end of the timeline
  sessionEnded() {}, // the server says the session is gone
  moderated() {}, // a moderation frame came (given): the admin view's lists are stale
  renderAdmin() {}, // a redraw: the admin view's part (admin.js, once an admin opened it)
  closeAdmin() {},
};
