// The trust page (/trust, web/trust.html): what it says when the server runs
// without TLS, and that the chat page's service worker keeps it out of the
// shell's cache.

import { assert, joinAs, watch } from './client.mjs';

// The server without TLS (lib.startServer's default: --tls-port 0).
const NO_TLS = [];

export async function test_trust_page_without_tls_says_so_in_words(t) {
  const server = await t.startServer({ args: NO_TLS });
  const page = await t.newPage();
  const watcher = watch(t, page);
  const response = await page.goto(server.url + '/trust');
  assert(response.status() === 200, `GET /trust answered ${response.status()}`);
  const off = page.locator('#trust-off');
  await off.waitFor();
  assert(/no certificate to install: either it runs without HTTPS/.test(await off.textContent()), `#trust-off says ${await off.textContent()}`);
  assert(await page.locator('#trust-on').isHidden(), 'the steps show although there is no certificate');
  assert(await page.locator('#trust-status').isHidden(), 'the "asking" status still shows');
  await t.screenshot(page, 'trust-off');
  watcher.assertClean('the trust page'); // (GET /api/v1/trust's 404 is expected)
}

export async function test_service_worker_keeps_the_chat_shell_after_a_visit_to_the_trust_page(t) {
  const server = await t.startServer({ args: NO_TLS });
  const { page } = await joinAs(t, server, 'alice');
  assert(await page.evaluate(async () => Boolean((await navigator.serviceWorker.ready).active)),
    'no active service worker');
  await page.goto(server.url + '/trust'); // a navigation the service worker sees
  await page.locator('#trust-off').waitFor();
  await server.kill9();
  await page.goto(server.url + '/'); // the server is down: the shell from the cache
  await page.locator('#chat').waitFor();
  assert(await page.locator('#trust-off').count() === 0, 'the cached "/" is the trust page');
}
