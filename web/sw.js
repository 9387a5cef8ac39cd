// sw - the service worker: keeps a copy of the page's shell (HTML, CSS,
// scripts, icons) so the page opens even while the server is unreachable.
// Network first: a reachable server always gives the current files (they are
// revalidated with their ETags), the copy is only the fallback. The API,
// the WebSocket, /healthz and /metrics never go through the cache, nor the
// trust page (a page of its own for plain HTTP: as a navigation it would
// replace the shell's copy of '/') and the CA certificate.

const CACHE = 'lanchat-shell-v1';
const UNCACHED = ['/healthz', '/metrics', '/trust', '/trust.html', '/js/trust.js', '/js/qr.js', '/ca.crt'];
const SHELL = [
  '/',
  '/app.css',
  '/js/main.js',
  '/js/api.js',
  '/js/link.js',
  '/js/local.js',
  '/js/view.js',
  '/manifest.webmanifest',
  '/icons/icon.svg',
  '/icons/icon-192.png',
];

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
