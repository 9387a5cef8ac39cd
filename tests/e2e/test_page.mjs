// The page as an installable app and as a document: manifest, icons and
// service worker; every control named for screen readers. (The CSP is on in
// every test: a violation would be a console error that fails it.)

import { join } from 'node:path';
import { PHONE, assert, assertEqual, joinAs, submitJoin } from './client.mjs';

// Width and height of a PNG, from its IHDR chunk.
function pngSize(bytes) {
  assert(bytes.subarray(1, 4).toString('latin1') === 'PNG', 'not a PNG');
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

export async function test_installable_manifest_icons_and_service_worker(t) {
  const server = await t.startServer();
  const { page, watcher } = await joinAs(t, server, 'alice', { viewport: PHONE });
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  const res = await page.request.get(new URL(href, server.url).href);
  assertEqual(res.headers()['content-type'], 'application/manifest+json', 'manifest type');
  const manifest = await res.json();
  assertEqual([manifest.name, manifest.start_url, manifest.display], ['lanchat', '/', 'standalone'], 'manifest');
  const sizes = [];
  for (const icon of manifest.icons) {
    const r = await page.request.get(new URL(icon.src, server.url).href);
    assertEqual([icon.src, r.status(), r.headers()['content-type']], [icon.src, 200, icon.type], 'icon');
    if (icon.type === 'image/png') {
      assertEqual(pngSize(await r.body()), icon.sizes, `size of ${icon.src}`);
      sizes.push(icon.sizes);
    }
  }
  assert(sizes.includes('192x192') && sizes.includes('512x512'), `PNG icons: ${sizes}`);

  // The service worker installs and, after a reload, controls the page.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.locator('#chat[data-link="up"]').waitFor();
  assert(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'page not controlled by the worker');
  watcher.assertClean('alice\'s page');
}

export async function test_every_control_has_an_accessible_name(t) {
  const server = await t.startServer();
  const login = await t.newPage({ viewport: PHONE });
  await login.goto(`${server.url}/`);
  await login.locator('#login-name').waitFor();
  const { page } = await joinAs(t, server, 'alice', { viewport: PHONE });
  const nameless = (p) => p.evaluate(() => {
    const named = (el) => (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').split(' ').map((id) => document.getElementById(id)?.textContent || '').join('').trim()
      || Array.from(el.labels || []).map((l) => l.textContent).join('').trim()
      || (['BUTTON', 'A'].includes(el.tagName) ? el.textContent.trim() : '');
    return Array.from(document.querySelectorAll('button, input, textarea, select, a, [role="log"], nav'))
      .filter((el) => !el.closest('[hidden]') && !named(el))
      .map((el) => el.outerHTML.slice(0, 80));
  });
  assertEqual(await nameless(login), [], 'controls without a name on the join screen');
  assertEqual(await nameless(page), [], 'controls without a name in the chat');
  assertEqual(await page.locator('html').getAttribute('lang'), 'en', 'page language');
}

// A build without accounts, rooms and the compiled-in client (make
// FLAGS=minimal) serves web/ from disk; the page asks /api/v1/server and
// leaves out what the build lacks.
export async function test_minimal_build_from_disk_hides_what_it_lacks(t) {
  const server = await t.startServer({
    bin: join(t.repo, 'build', 'desktop-minimal', 'lanchat'),
    args: ['--web-root', join(t.repo, 'web')],
  });
  const info = await t.request(server.url, 'GET', '/api/v1/server');
  assertEqual(info.body.features, {
    accounts: false, rooms: false, search: false, moderation: false, direct: false, typing: false, backups: false,
  }, 'features of the minimal build');
  const { page, watcher } = await joinAs(t, server, 'alice', { viewport: PHONE });
  assert(await page.locator('#room-form').isHidden(), 'room form shown without rooms');
  assert(await page.locator('#search-form').isHidden(), 'search shown without search');
  await page.locator('#logout').click();
  await page.locator('#login').waitFor();
  assert(await page.locator('#login-password').isHidden(), 'password field shown without accounts');
  assert(await page.locator('#register-submit').isHidden(), 'register button shown without accounts');
  await submitJoin(page, 'bob');
  await page.locator('#chat[data-link="up"]').waitFor();
  await page.locator('#composer-input').fill('from the minimal build');
  await page.locator('#composer-input').press('Enter');
  await page.locator('#messages li.msg[data-id]').filter({ hasText: 'from the minimal build' }).waitFor();
  // without direct messages a name under Online is not a button; without
  // typing, typing sends nothing (the server would answer an error frame)
  const carol = await joinAs(t, server, 'carol', { viewport: PHONE });
  await page.locator('#online li', { hasText: 'carol' }).waitFor({ state: 'attached' }); // hidden on a phone
  assertEqual(await page.locator('#online button.talk').count(), 0, 'a private-message button without direct');
  await carol.page.locator('#composer-input').pressSequentially('abc');
  await carol.page.locator('#composer-input').fill('');
  await carol.page.locator('#composer-input').fill('from carol');
  await carol.page.locator('#composer-input').press('Enter');
  await carol.page.locator('#messages li.msg[data-id]').filter({ hasText: 'from carol' }).waitFor();
  assert(await carol.page.locator('#toast').isHidden(), 'carol was told of a refusal');
  await page.locator('#messages li.msg[data-id]').filter({ hasText: 'from carol' }).waitFor();
  carol.watcher.assertClean('carol\'s page in the minimal build');
  watcher.assertClean('the minimal build\'s page');
}
