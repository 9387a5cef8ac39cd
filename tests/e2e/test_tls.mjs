// HTTPS with the box's own local CA, in the browser: the trust page over
// plain HTTP shows the CA's fingerprint and a QR code of the HTTPS address;
// a browser that trusts the CA (no --ignore-certificate-errors, no
// ignoreHTTPSErrors) loads the chat over HTTPS on a name that is not
// localhost, logs in, chats over WSS and gets the service worker (which
// needs that secure context); the suite's browser, which lacks the CA,
// refuses the certificate.
//
// The trusting browser is a browser of its own, launched per test with a
// certificate store made by certutil (libnss3-tools): chromium's NSS db in
// $HOME/.pki/nssdb of a temporary HOME, firefox's cert9.db in the profile
// the test hands it. `<hostname>.local` (a name the server certificate
// carries) goes to 127.0.0.1 through chromium's --host-resolver-rules and
// firefox's network.dns.localDomains.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, assertEqual, linkUp, seeMessage, send, submitJoin, watch } from './client.mjs';
import * as lib from './lib.mjs';

const HOST = `${hostname()}.local`;

// The CA's SHA-256 fingerprint as openssl prints it ("AB:CD:…").
function opensslFingerprint(caPath) {
  const out = execFileSync('openssl', ['x509', '-in', caPath, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  return /Fingerprint=([0-9A-F:]+)/i.exec(out)[1].toUpperCase();
}

// What zbarimg reads in a PNG file (null: no QR code found).
function zbar(file) {
  try {
    return execFileSync('zbarimg', ['--raw', '-q', '--nodbus', '-Sdisable', '-Sqrcode.enable', file], { encoding: 'utf8' })
      .replace(/\n$/, '');
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('no zbarimg: tools/deps.sh test installs zbar-tools');
    return null;
  }
}

// An empty NSS certificate store in dir, holding the CA when caPath is given
// ("C,,": trusted to issue server certificates).
function nssStore(dir, caPath) {
  mkdirSync(dir, { recursive: true });
  execFileSync('certutil', ['-d', `sql:${dir}`, '-N', '--empty-password']);
  if (caPath) execFileSync('certutil', ['-d', `sql:${dir}`, '-A', '-t', 'C,,', '-n', 'lanchat', '-i', caPath]);
}

/**
 * Runs fn(context) in a browser of t's kind launched for this test alone,
 * trusting the CA at caPath (or nothing but its own store when caPath is
 * null), with HOST resolving to 127.0.0.1; closes it and removes its
 * directories after, whatever happens.
 */
async function inOwnBrowser(t, caPath, fn) {
  const dir = mkdtempSync(join(tmpdir(), 'lanchat-e2e-browser-'));
  const profile = join(dir, 'profile');
  const pw = await import('playwright-core');
  let context = null;
  try {
    if (t.browserName === 'chromium') {
      const home = join(dir, 'home');
      nssStore(join(home, '.pki', 'nssdb'), caPath);
      context = await pw.chromium.launchPersistentContext(profile, {
        executablePath: lib.CHROMIUM, headless: true,
        args: [...lib.CHROMIUM_ARGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
        env: { ...process.env, HOME: home },
      });
    } else {
      nssStore(profile, caPath);
      const b = lib.BROWSERS[t.browserName];
      context = await pw.firefox.launchPersistentContext(profile, {
        executablePath: b.executablePath, channel: b.channel, headless: true,
        firefoxUserPrefs: { 'network.dns.localDomains': HOST },
      });
    }
    return await fn(context);
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function test_trust_page_shows_the_ca_fingerprint_and_a_qr_code_of_the_https_address(t) {
  const server = await t.startServer({ tls: true });
  const page = await t.newPage();
  const watcher = watch(t, page);
  const response = await page.goto(server.url + '/trust');
  assertEqual(response.status(), 200, 'GET /trust over plain HTTP');
  await page.locator('#trust-on').waitFor();

  const shown = (await page.locator('#fingerprint').innerText()).replace(/\s+/g, '').toUpperCase();
  assertEqual(shown, opensslFingerprint(server.caPath).replace(/:/g, ''), 'fingerprint on the page');
  const httpsUrl = `https://127.0.0.1:${server.httpsPort}/`; // the host the page was asked by
  assertEqual(await page.locator('#https-url').textContent(), httpsUrl, 'HTTPS address shown');
  assertEqual(await page.locator('#continue').getAttribute('href'), httpsUrl, '"Continue to the chat"');

  const qrFile = join(server.dir, 'qr.png');
  await page.locator('#qr svg').screenshot({ path: qrFile });
  assertEqual(zbar(qrFile), httpsUrl, 'what zbarimg reads in the QR code');

  // The download link gives the CA file itself.
  const href = await page.locator('#ca-link').getAttribute('href');
  const pem = await page.evaluate(async (u) => (await fetch(u)).text(), href);
  assertEqual(pem.trim(), readFileSync(server.caPath, 'utf8').trim(), `${href} is tls/ca.crt`);
  await t.screenshot(page, 'trust');
  watcher.assertClean('the trust page');
}

export async function test_browser_trusting_the_local_ca_chats_over_https_with_a_service_worker(t) {
  // --http-redirect off: the test's own REST calls (node) stay on plain HTTP.
  const server = await t.startServer({ tls: true, args: ['--http-redirect', 'off'] });
  const bob = await t.login(server.url, 'bob');
  await inOwnBrowser(t, server.caPath, async (context) => {
    const page = await context.newPage();
    const watcher = watch(t, page);
    await page.goto(`http://${HOST}:${server.port}/trust`);
    await page.locator('#trust-on').waitFor();
    assert(!(await page.evaluate(() => isSecureContext)), 'plain HTTP on a LAN name counts as a secure context');
    const httpsUrl = `https://${HOST}:${server.httpsPort}/`;
    assertEqual(await page.locator('#https-url').textContent(), httpsUrl, 'HTTPS address on the trust page');

    await page.locator('#continue').click();
    await page.waitForURL(httpsUrl);
    await submitJoin(page, 'alice');
    await linkUp(page);
    assertEqual(await page.evaluate(() => [location.protocol, isSecureContext]), ['https:', true], 'the chat page');
    // An https: page can open wss: only (mixed content): the link is WSS.
    await t.post(server.url, bob, 'general', 'from bob over REST');
    await seeMessage(page, 'from bob over REST');
    await send(page, 'from alice over WSS');
    await seeMessage(page, 'from alice over WSS');
    const stored = (await t.history(server.url, bob, 'general')).messages.map((m) => `${m.author}: ${m.body}`);
    assertEqual(stored, ['bob: from bob over REST', 'alice: from alice over WSS'], 'stored messages');

    const sw = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return { active: Boolean(reg.active), scope: reg.scope };
    });
    assertEqual(sw, { active: true, scope: httpsUrl }, 'the service worker');
    await page.reload();
    await page.locator('#chat').waitFor();
    assert(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'no service worker controls the page after a reload');
    await t.screenshot(page, 'https-chat');
    watcher.assertClean('the chat over HTTPS');
  });
}

// Launching a browser of its own takes firefox about 10 s, 20 on a busy machine.
test_browser_trusting_the_local_ca_chats_over_https_with_a_service_worker.timeout = 150;

// The suite's browser has no CA but its defaults: it must refuse the
// certificate, for that reason (the error names it), while node with the CA
// gets an answer from the same port. The certificate names 127.0.0.1.
export async function test_browser_without_the_local_ca_refuses_the_certificate(t) {
  const server = await t.startServer({ tls: true });
  const url = `https://127.0.0.1:${server.httpsPort}/`;
  const status = await new Promise((res, rej) => {
    get(url + 'healthz', { ca: readFileSync(server.caPath) }, (r) => res(r.resume().statusCode)).on('error', rej);
  });
  assertEqual(status, 200, 'GET /healthz over HTTPS with the CA');
  const page = await t.newPage();
  let error = null;
  try {
    await page.goto(url);
  } catch (e) {
    error = e;
  }
  assert(error, 'the page loaded over HTTPS with a certificate of an unknown CA');
  const why = t.browserName === 'chromium' ? /ERR_CERT_AUTHORITY_INVALID/ : /SEC_ERROR_UNKNOWN_ISSUER/;
  assert(why.test(error.message), `not refused for its unknown CA: ${error.message.split('\n').slice(0, 2).join(' ')}`);
  assert(await page.locator('#login-form').count() === 0, 'the chat page is shown');
}
