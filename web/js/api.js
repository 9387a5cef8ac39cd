// api - the REST calls of API v1 (docs/API.md). Every failure becomes an
// ApiError with the server's code and message, or code "offline" when the
// server could not be reached at all.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'offline', 'The chat server cannot be reached.');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    /* not JSON: the status says enough */
  }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, e ? e.code : `http_${res.status}`,
      e ? e.message : `The server answered ${res.status}.`);
  }
  return data;
}

const room = (name) => `/api/v1/rooms/${encodeURIComponent(name)}`;

export const api = {
  server: () => call('GET', '/api/v1/server'),
  session: () => call('GET', '/api/v1/session'),
  login: (name, password) => call('POST', '/api/v1/session', password ? { name, password } : { name }),
  logout: () => call('DELETE', '/api/v1/session'),
  register: (name, password) => call('POST', '/api/v1/users', { name, password }),
  rooms: () => call('GET', '/api/v1/rooms'),
  createRoom: (name) => call('POST', '/api/v1/rooms', { name }),
  direct: (name) => call('POST', '/api/v1/direct', { name }),
  history: (name, before, limit = 50) =>
    call('GET', `${room(name)}/messages?limit=${limit}${before ? `&before=${before}` : ''}`),
  historyAfter: (name, after, limit = 50) => call('GET', `${room(name)}/messages?limit=${limit}&after=${after}`),
  search: (q, before, limit = 20) =>
    call('GET', `/api/v1/search?q=${encodeURIComponent(q)}&limit=${limit}${before ? `&before=${before}` : ''}`),
  deleteMessage: (id) => call('DELETE', `/api/v1/messages/${id}`),
  presence: () => call('GET', '/api/v1/presence'),
  mute: (name, seconds) => call('POST', '/api/v1/admin/mutes', { name, seconds }),
  kick: (name) => call('POST', '/api/v1/admin/kicks', { name }),
  bans: () => call('GET', '/api/v1/admin/bans'),
  ban: (kind, value) => call('POST', '/api/v1/admin/bans', { kind, value }),
  unban: (kind, value) => call('DELETE', `/api/v1/admin/bans/${kind}/${encodeURIComponent(value)}`),
  reserved: () => call('GET', '/api/v1/admin/reserved'),
  reserve: (name) => call('POST', '/api/v1/admin/reserved', { name }),
  unreserve: (name) => call('DELETE', `/api/v1/admin/reserved/${encodeURIComponent(name)}`),
  // settings: {read_only?: bool, topic?: string ("" clears it)}
  setRoom: (name, settings) => call('PATCH', room(name), settings),
  audit: (before, limit = 20) => call('GET', `/api/v1/admin/audit?limit=${limit}${before ? `&before=${before}` : ''}`),
  // The database as a Blob (GET /api/v1/admin/backup), with the file name the server gave.
  async backup() {
    let res;
    try {
      res = await fetch('/api/v1/admin/backup', { credentials: 'same-origin' });
    } catch {
      throw new ApiError(0, 'offline', 'The chat server cannot be reached.');
    }
    if (!res.ok) {
      let e = null;
      try {
        e = (await res.json()).error;
      } catch {
        /* not JSON: the status says enough */
      }
      throw new ApiError(res.status, e ? e.code : `http_${res.status}`, e ? e.message : `The server answered ${res.status}.`);
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
    return { blob: await res.blob(), name: name ? name[1] : 'lanchat.db' };
  },
};
