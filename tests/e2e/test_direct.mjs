// Direct messages: a click on someone's name under "Online" opens a private
// conversation, listed as "@bob" (for alice) and "@alice" (for bob: the
// server's "rooms" frame makes his page read its list again, no reload);
// what is said there reaches those two, as an unread mention for bob, and
// carol, in the same chat, sees neither the room nor its messages.

import { assertEqual, joinAs, seeMessage, send, shownBodies } from './client.mjs';

const ready = (page, room) => page.locator(`#rooms button[data-room="${room}"][data-ready="true"]`).waitFor();

export async function test_a_click_on_a_name_opens_a_private_conversation_of_the_two(t) {
  const server = await t.startServer();
  const alice = await joinAs(t, server, 'alice');
  const bob = await joinAs(t, server, 'bob');
  const carol = await joinAs(t, server, 'carol');
  await alice.page.locator('#online button.talk[data-user="bob"]').waitFor();

  await alice.page.locator('#online button.talk[data-user="bob"]').click();
  const dm = alice.page.locator('#rooms button.room', { hasText: 'bob' });
  await dm.waitFor();
  const room = await dm.getAttribute('data-room');
  assertEqual(/^@[0-9]+$/.test(room), true, `the direct room's name ${room}`);
  await ready(alice.page, room);
  assertEqual(await alice.page.locator('#room-title').textContent(), '@bob', 'alice\'s title');

  // bob's page lists it by itself (no focus, no reload) and joins it
  const his = bob.page.locator(`#rooms button.room[data-room="${room}"]`);
  await his.waitFor();
  await ready(bob.page, room);
  assertEqual((await his.locator('.name').textContent()), 'alice', 'bob\'s label');
  await send(alice.page, 'just between us');
  await seeMessage(alice.page, 'just between us');
  await his.locator('.mentions', { hasText: '@1' }).waitFor(); // a direct message counts as one for him
  await his.click();
  await seeMessage(bob.page, 'just between us');

  // carol sees no such room, and the general room carries on for her
  await carol.page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await send(bob.page, 'x'); // bob answers in the conversation
  await seeMessage(alice.page, 'x');
  await bob.page.locator('#rooms button.room[data-room="general"]').click();
  await send(bob.page, 'marker in general');
  await seeMessage(carol.page, 'marker in general');
  assertEqual(await carol.page.locator(`#rooms button.room[data-room="${room}"]`).count(), 0, 'carol\'s rooms');
  const seen = await shownBodies(carol.page);
  assertEqual(seen.includes('just between us') || seen.includes('x'), false, 'carol\'s timeline');
  for (const [who, p] of [['alice', alice], ['bob', bob], ['carol', carol]]) p.watcher.assertClean(`${who}'s page`);
}
test_a_click_on_a_name_opens_a_private_conversation_of_the_two.timeout = 90;
