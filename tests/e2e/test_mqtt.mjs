// Two appliances bridged through a private Mosquitto (Debian's, on a free
// loopback port, stopped by PID): a message written on the other appliance
// by someone with the user's own name shows `@<node>` beside its author, is
// not the user's (no Delete), while the user's own message keeps its Delete;
// and the page on the other appliance shows the user's message the same way.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, assertEqual, joinAs, seeMessage, send } from './client.mjs';
import * as lib from './lib.mjs';

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const accepts = (port) => new Promise((ok) => {
  const c = createConnection({ host: '127.0.0.1', port }, () => { c.destroy(); ok(true); });
  c.on('error', () => ok(false));
});

// A broker of its own; resolves once it accepts connections (bounded).
async function startBroker() {
  const dir = mkdtempSync(join(tmpdir(), 'lanchat-e2e-mqtt-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nuser root\n`
    + `persistence true\npersistence_location ${dir}/\nmax_queued_messages 100000\n`);
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((ok) => child.on('exit', ok));
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    if (await accepts(port)) {
      return {
        url: `mqtt://127.0.0.1:${port}`,
        async close() {
          child.kill('SIGTERM');
          await exited;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`mosquitto did not start: ${err}`);
}

export async function test_a_namesake_on_another_appliance_shows_its_node_and_no_delete(t) {
  const broker = await startBroker();
  try {
    const a = await t.startServer({ args: ['--mqtt', broker.url, '--node', 'hall-a'] });
    const b = await t.startServer({ args: ['--mqtt', broker.url, '--node', 'hall-b'] });
    const { page } = await joinAs(t, a, 'alice');
    const { page: other } = await joinAs(t, b, 'alice'); // another person, same name
    await send(page, 'written on hall-a');
    await send(other, 'written on hall-b');

    const theirs = await seeMessage(page, 'written on hall-b', 20_000);
    assertEqual(await theirs.locator('.node').textContent(), '@hall-b', "the mirrored message's node");
    assertEqual(await theirs.locator('button[data-action^="delete-"]').count(), 0,
      'a Delete button on a message of another appliance');
    const mine = await seeMessage(page, 'written on hall-a');
    assertEqual(await mine.locator('.node').count(), 0, 'a node beside a message of this appliance');
    assertEqual(await mine.locator('button[data-action^="delete-"]').count(), 1,
      "no Delete button on the user's own message");

    const mirrored = await seeMessage(other, 'written on hall-a', 20_000);
    assertEqual(await mirrored.locator('.node').textContent(), '@hall-a', 'the node on the other page');
    assert(!(await mirrored.evaluate((el) => el.classList.contains('own'))),
      "hall-a's alice is shown as hall-b's alice");
  } finally {
    await broker.close();
  }
}
