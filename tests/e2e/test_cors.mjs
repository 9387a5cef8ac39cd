// A page of another origin (a second local server, on another port and host
// name) tries to log in to lanchat in the user's browser with a JSON fetch.
// lanchat answers the CORS preflight without any Access-Control-* header, so
// the browser never sends the POST: the fetch fails and no session exists.

import { createServer } from 'node:http';
import { request } from './lib.mjs';

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// The foreign page: tries the login, reports the outcome in window.outcome.
function foreignPage(target, name) {
  return `<!doctype html><title>elsewhere</title><script>
window.outcome = fetch(${JSON.stringify(target + '/api/v1/session')}, {
  method: 'POST',
  headers: {'Content-Type': 'application/json'},
  body: JSON.stringify({name: ${JSON.stringify(name)}}),
}).then((r) => 'answered ' + r.status, (e) => 'refused: ' + e.message);
</script>`;
}

async function startForeignSite(html) {
  const site = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((ok) => site.listen(0, '127.0.0.1', ok));
  return site;
}

async function sessionsInUse(url) {
  const r = await request(url, 'GET', '/metrics');
  if (r.status !== 200) return null; // a build without metrics
  const m = /^lanchat_pool_in_use\{pool="session"\} (\d+)$/m.exec(r.body);
  assert(m, 'no session pool gauge in /metrics');
  return Number(m[1]);
}

export async function test_json_login_from_a_foreign_origin_is_refused_by_the_browser(t) {
  const server = await t.startServer();
  const name = 'cors' + process.pid;
  const before = await sessionsInUse(server.url);
  const site = await startForeignSite(foreignPage(server.url, name));
  try {
    const page = await t.newPage();
    // localhost:<other port> is another origin than 127.0.0.1:<lanchat's port>
    await page.goto(`http://localhost:${site.address().port}/`);
    const outcome = await page.evaluate(() => window.outcome);
    assert(outcome.startsWith('refused'), `the foreign page's login was not refused: ${outcome}`);
  } finally {
    site.close();
  }
  assert(await sessionsInUse(server.url) === before, 'the refused login created a session');
  // the name is free: no session of the foreign page holds it
  const r = await request(server.url, 'POST', '/api/v1/session', { body: { name } });
  assert(r.status === 201, `the name is held after the refused login: ${r.status}`);
}
