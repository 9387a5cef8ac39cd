// A logout the server could not store (another connection holds SQLite's
// write lock, so the deletion fails: a real storage failure) is answered 503:
// the page says so and stays in the chat, and the session still works.

import { spawn } from 'node:child_process';
import { assert, joinAs, linkUp } from './client.mjs';

// sqlite3 (Debian's CLI) takes the database's write lock and keeps it until
// release(); resolves once it holds it.
async function holdWriteLock(dbPath) {
  const child = spawn('sqlite3', [dbPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((ok) => child.on('exit', ok));
  let out = '';
  const locked = new Promise((ok, fail) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('locked')) ok();
    });
    exited.then(() => fail(new Error(`sqlite3 exited before it held the lock: ${out}`)));
  });
  child.stdin.write(".timeout 10000\nBEGIN IMMEDIATE;\nSELECT 'locked';\n");
  await locked;
  return async () => {
    child.stdin.end('ROLLBACK;\n.quit\n');
    await exited;
  };
}

export async function test_logout_that_cannot_be_stored_keeps_the_chat_and_says_so(t) {
  const server = await t.startServer();
  const { page } = await joinAs(t, server, 'olga');
  const release = await holdWriteLock(server.dbPath);
  try {
    await page.locator('#logout').click();
    // the store's busy timeout (5 s) passes before the 503
    await page.locator('#toast', { hasText: 'could not be stored' }).waitFor({ timeout: 20_000 });
    assert(await page.locator('#chat').isVisible(), 'the chat closed after a refused logout');
    assert(await page.locator('#login').isHidden(), 'the join screen showed after a refused logout');
  } finally {
    await release();
  }
  await page.reload();
  await linkUp(page);
  assert(await page.locator('#login').isHidden(), 'the session did not survive the refused logout');
}
