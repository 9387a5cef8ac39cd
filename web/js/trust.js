// trust - the trust page (/trust, served over plain HTTP): the local CA's
// fingerprint, a QR code of the HTTPS address, the CA for download, and how
// to install it on the reader's platform (opened first). Everything comes
// from GET /api/v1/trust; a 404 there means no local CA (no TLS, or the
// operator's own certificate).

import { qrEncode, qrSvg } from './qr.js';

const $ = (id) => document.getElementById(id);

// "AB:CD:…" (32 bytes) as four lines of eight "AB CD EF …", the way the
// platforms' certificate viewers show it.
function fingerprintLines(fingerprint) {
  const bytes = fingerprint.toUpperCase().split(':');
  const lines = [];
  for (let i = 0; i < bytes.length; i += 8) lines.push(bytes.slice(i, i + 8).join(' '));
  return lines;
}

function platform() {
  const ua = navigator.userAgent;
  if (/Android/.test(ua)) return 'android';
  if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)) return 'ios';
  if (/Windows/.test(ua)) return 'windows';
  if (/Macintosh/.test(ua)) return 'macos';
  if (/Linux|X11|CrOS/.test(ua)) return 'linux';
  return null;
}

function show(info) {
  const fp = $('fingerprint');
  for (const line of fingerprintLines(info.fingerprint)) {
    const span = document.createElement('span');
    span.textContent = line;
    fp.append(span);
  }
  $('ca-link').href = info.ca_url;
  $('https-url').textContent = info.https_url;
  $('continue').href = info.https_url;
  $('qr').append(qrSvg(qrEncode(info.https_url, { level: 'M' }), { label: `QR code of ${info.https_url}` }));
  const mine = platform();
  if (mine) $(`os-${mine}`).open = true;
  $('trust-status').hidden = true;
  $('trust-on').hidden = false;
}

async function load() {
  const status = $('trust-status');
  let res;
  try {
    res = await fetch('/api/v1/trust', { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch {
    status.textContent = 'The server cannot be reached. Reload this page to try again.';
    return;
  }
  if (res.status === 404) {
    status.hidden = true;
    $('trust-off').hidden = false;
    return;
  }
  try {
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    show(await res.json());
  } catch (e) {
    status.textContent = `The server's answer could not be read (${e.message}). Reload this page to try again.`;
  }
}

load();
