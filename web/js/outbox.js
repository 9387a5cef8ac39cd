// outbox - messages typed and not yet stored by the server, as kept in
// localStorage: what a save writes and what a load takes back. Pure
// functions (tests/web/test_logic.mjs); main's outbox is an array of
// {cid, room, body, created, state: pending|sending|failed, error}.
//
// Other tabs of the same user share the stored outbox: a save keeps their
// entries (all but those this page saw acknowledged or discarded), so a
// message typed offline in one tab survives the other tab's saves. An entry
// two tabs hold is sent by both with one cid: the server stores it once.

const SETTLED_KEPT = 500;

// The cids this page saw acknowledged or discarded: the newest 500.
export class Settled {
  constructor(kept = SETTLED_KEPT) {
    this.kept = kept;
    this.cids = new Set();
  }

  add(cid) {
    this.cids.add(cid);
    if (this.cids.size > this.kept) this.cids.delete(this.cids.values().next().value);
  }

  has(cid) {
    return this.cids.has(cid);
  }

  clear() {
    this.cids.clear();
  }
}

// What to store: this page's entries (one being sent is stored as waiting)
// and the stored ones of other tabs, not settled here, oldest first.
export function mergeOutbox(mine, stored, settled) {
  const own = mine.map(({ cid, room, body, created, state, error }) => ({
    cid, room, body, created, state: state === 'sending' ? 'pending' : state, error,
  }));
  const known = new Set(own.map((e) => e.cid));
  const others = (Array.isArray(stored) ? stored : [])
    .filter((e) => e && typeof e.cid === 'string' && !known.has(e.cid) && !settled.has(e.cid));
  return [...others, ...own].sort((a, b) => a.created - b.created);
}

// The stored outbox taken back: entries of the right shape, each waiting
// to be sent again unless the server had refused it.
export function restoreOutbox(stored) {
  return (Array.isArray(stored) ? stored : []).filter((e) => e && typeof e.cid === 'string'
    && typeof e.body === 'string' && typeof e.room === 'string')
    .map((e) => ({ ...e, state: e.state === 'failed' ? 'failed' : 'pending' }));
}
