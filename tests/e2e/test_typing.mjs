// Typing indicators: while one person types in the composer, the others of
// the room read "alice is typing…" under the timeline (never the typist
// herself); it goes when her message arrives, or some 5 s after her last
// keystroke; two typists are named, more are "several people".

import { assertEqual, joinAs, seeMessage, send } from './client.mjs';

const ready = (page) => page.locator('#rooms button[data-room="general"][data-ready="true"]').waitFor();
const typingLine = (page, text, timeout) => page.locator('#typing').filter({ hasText: text }).waitFor({ timeout });
const typingIsBlank = (page, timeout) => page.waitForFunction(
  () => document.getElementById('typing').textContent === '', null, { timeout });

export async function test_the_others_see_who_is_typing_until_the_message_or_a_pause(t) {
  const server = await t.startServer();
  const alice = await joinAs(t, server, 'alice');
  const bob = await joinAs(t, server, 'bob');
  const carol = await joinAs(t, server, 'carol');
  for (const p of [alice, bob, carol]) await ready(p.page);

  await alice.page.locator('#composer-input').pressSequentially('hel');
  await typingLine(bob.page, /^alice is typing…$/);
  await typingLine(carol.page, /^alice is typing…$/);
  assertEqual(await alice.page.locator('#typing').textContent(), '', 'the typist\'s own line');

  await carol.page.locator('#composer-input').pressSequentially('hm');
  await typingLine(bob.page, /^alice and carol are typing…$/);

  // alice's message ends her line at once; carol's ends after her pause.
  await alice.page.locator('#composer-input').pressSequentially('lo');
  await alice.page.locator('#composer-input').press('Enter');
  await seeMessage(bob.page, 'hello');
  await typingLine(bob.page, /^carol is typing…$/);
  await typingIsBlank(bob.page, 10_000);

  // The line is text: a name is never read as HTML (names allow no markup,
  // but the line is set with textContent all the same).
  assertEqual(await bob.page.locator('#typing *').count(), 0, 'elements in the typing line');
  await send(bob.page, 'bye');
  await seeMessage(alice.page, 'bye');
  for (const [who, p] of [['alice', alice], ['bob', bob], ['carol', carol]]) p.watcher.assertClean(`${who}'s page`);
}
test_the_others_see_who_is_typing_until_the_message_or_a_pause.timeout = 90;
