// Mentions: "@name" in a message is marked for everyone, and marked apart
// for the person it names; built of text nodes, so a body's markup stays text.

import { assert, assertEqual, joinAs, seeMessage, send } from './client.mjs';

export async function test_a_mention_is_marked_for_all_and_apart_for_the_one_named(t) {
  const server = await t.startServer();
  const alice = await joinAs(t, server, 'alice');
  const bob = await joinAs(t, server, 'bob');

  await send(alice.page, 'hi @bob and @carol, mail x@y.org <b>@bob</b>');
  await seeMessage(bob.page, 'hi @bob and @carol, mail x@y.org <b>@bob</b>');
  await seeMessage(alice.page, 'hi @bob and @carol, mail x@y.org <b>@bob</b>');
  for (const [who, page] of [['alice', alice.page], ['bob', bob.page]]) {
    const marks = page.locator('#messages li.msg[data-id] .body mark.mention');
    assertEqual(await marks.allTextContents(), ['@bob', '@carol', '@bob'], `${who}'s marks`);
    assertEqual(await page.locator('#messages .body b').count(), 0, `HTML in ${who}'s body`);
  }
  assertEqual(await bob.page.locator('.body mark.mention.me').allTextContents(), ['@bob', '@bob'], 'bob\'s own marks');
  assertEqual(await alice.page.locator('.body mark.mention.me').count(), 0, 'alice\'s own marks');
  const look = (loc) => loc.evaluate((m) => getComputedStyle(m).backgroundColor);
  const mine = await look(bob.page.locator('.body mark.mention.me').first());
  const other = await look(bob.page.locator('.body mark.mention:not(.me)').first());
  assert(mine !== other, `bob's mention looks like any other (${mine})`);
  alice.watcher.assertClean('alice\'s page');
  bob.watcher.assertClean('bob\'s page');
}
