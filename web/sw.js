// sw - the service worker: keeps a copy of the page's shell (HTML, CSS,
// scripts, icons) so the page opens even while the server is unreachable.
// Network first: a reachable server always gives the current files (they are
// revalidated with their ETags), the copy is only the fallback. The API,
// the WebSocket, /healthz and /metrics never go through the cache, nor the
// trust page (a page of its own for plain HTTP: as a navigation it would
// replace the shell's copy of '/') and the CA certificate.
//
// The files and the cache's name come from /sw-files.js, which the server
// makes from what it serves (docs/DESIGN.md, "The web client"): every file
// of web/ and a version, a hash of their contents. A changed file changes
// that script, so the browser installs this worker again: it copies the
// files into a cache of the new version and deletes the older caches.
//
// It also shows the page's notifications (alerts.js: Chrome on Android shows
// no other kind), and a click on one opens its room in the page.

importScripts('/sw-files.js'); /* global LANCHAT_FILES, LANCHAT_VERSION */

const CACHE = `lanchat-shell-${LANCHAT_VERSION}`;
// The admin view's script too: an admin loads it on demand, and offline it could do nothing.
const UNCACHED = ['/healthz', '/metrics', '/trust', '/trust.html', '/js/trust.js', '/js/qr.js', '/js/admin.js', '/ca.crt'];
// '/' is the page itself (index.html, under the name a navigation asks for).
const SHELL = ['/', ...LANCHAT_FILES.filter((f) => f !== '/index.html' && f !== '/sw.js' && !UNCACHED.includes(f))];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin) return;
  if (url.pathname.startsWith('/api/') || UNCACHED.includes(url.pathname)) return;
  const key = event.request.mode === 'navigate' ? '/' : event.request;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
    }
    return response;
  }).catch(() => caches.match(key).then((hit) => hit || Response.error())));
});

// The room of a clicked notification, opened in the page the user was in
// last (matchAll lists windows most recently focused first), or in a new one.
async function openRoomOf(data) {
  const room = typeof data?.room === 'string' ? data.room : null;
  const [page] = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  if (!page) return self.clients.openWindow('/');
  if (room) page.postMessage({ type: 'open-room', room });
  // focus is allowed in a notificationclick only
  return page.focus().catch(() => page);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openRoomOf(event.notification.data));
});
