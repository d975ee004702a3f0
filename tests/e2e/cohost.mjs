// Co-hosts and the host-absent policy (docs/protocol.md, "Co-hosts",
// "Revoking a co-host", "When the last host leaves"): a host (Marta,
// through the host link), Ada on a desktop and Bruno on a phone, in
// headless Chromiums, through the real nginx (2 workers) and the real
// media worker.  Prints TAP; run it through cohost.t (a network namespace
// with only `lo`, a hard deadline).
//
//   - the create page's "When the host leaves" makes a room that ends
//     when the host leaves (host_absent "end"), and the room page shows
//     the host that choice;
//   - the host's participant list: "Make co-host" for each guest; pressed
//     for Ada, she is told "You are now a co-host", her tile and row say
//     Co-host (on everyone's screen), and she gets "Lock room" but not
//     "End room", "New invite link" or "When the host leaves"; her list
//     has "Remove" for guests only, and no co-host buttons;
//   - Ada locks the room: a new guest is refused with the locked message;
//     she unlocks it;
//   - Ada reloads the page and joins again: still a co-host (her browser
//     kept the co-host key);
//   - "Remove co-host": Ada is told, her controls go, and she is a guest
//     on the host's list again;
//   - the host sets "When the host leaves" to "Lock the room" and leaves:
//     Ada and Bruno are told "The room locked itself because the host
//     left", and the room is locked;
//   - a room set to end: when the host leaves, an Italian guest is told
//     "La stanza è terminata perché l'host è uscito.";
//   - screenshots at 1280x800 and 360x640 in build/e2e/.

import {
  ok, until, openPerson, alertOf, joinAs, scenarioRun, roomsState, listRow,
  openPanel, closePanel, checkScreen, launchChromium, screenshot,
  startServers,
} from './lib.mjs';

const DEADLINE = 170000;      // the whole run; only a failing run reaches it
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 640 };

const NOW_COHOST = 'You are now a co-host';
const NO_LONGER = 'You are no longer a co-host';
const SELF_LOCKED = 'The room locked itself because the host left';
const LOCKED_REFUSAL = 'The host has locked this room: nobody new can join.';
const ENDED_IT = "La stanza è terminata perché l'host è uscito.";

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const shot = (page, tag) => screenshot(page, 'cohost-' + tag);

const open = (name, url, opts) => openPerson(browser, people, name, url, opts);
const noticeOf = (page) => page.locator('#notice').evaluate((n) =>
  (n.hidden ? '' : n.textContent));
const button = (page, name) =>
  page.getByRole('button', { name, exact: true });

// A row of the participant list, by the exact name on it.
const row = (page, name) => listRow(page, '#people-list', name);
const tileOf = (page, name) => page.locator('[data-participant]').filter({
  has: page.locator('.name').getByText(name, { exact: true }),
});

// Waits until the page shows the notice, and says so.
async function sees(page, text, name) {
  let last = '';
  const r = await until(async () => {
    last = await noticeOf(page);
    return last === text;
  });
  return ok(r, name, 'notice: "' + last + '"');
}

/* ------------------------------------------------------------------------ */

async function scenario() {
  const servers = await startServers(dir);
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module: 2 workers')) return;

  browser = await launchChromium();

  /* ---- the create page: "When the host leaves" ------------------------ */

  const host = await open('Marta', ngx.base);
  const absent = host.getByLabel('When the host leaves', { exact: true });
  ok(await absent.isVisible() &&
     await absent.locator('option:checked').textContent() ===
       'Keep the room open',
     'the create page has "When the host leaves", "Keep the room open" ' +
     'by default');
  ok(JSON.stringify(await absent.locator('option').allTextContents()) ===
     JSON.stringify(['Keep the room open', 'Lock the room', 'End the room']),
     'its choices: keep the room open, lock it, end it');
  await absent.selectOption({ label: 'End the room' });
  await shot(host, 'create-1280x800');
  await checkScreen(host, 'the create page');
  await button(host, 'Create room').click();
  const hostUrl = await until(async () => {
    const v = await host.locator('#host').inputValue();
    return v.includes('#host=') ? v : false;
  });
  if (!ok(hostUrl, 'the create page creates the room')) return;
  const inviteUrl = await host.locator('#invite').inputValue();
  const hostKey = new URL(hostUrl).hash.slice('#host='.length);
  const code = new URL(inviteUrl).pathname.split('/').pop();
  const apiRoom = async () => (await fetch(ngx.base + 'api/rooms/' + code,
    { headers: { Authorization: 'Bearer ' + hostKey } })).json();
  {
    const r = await apiRoom();
    ok(r.host_absent === 'end', '"End the room" is the room\'s host_absent ' +
       '(host view of the API)', JSON.stringify(r));
  }

  /* ---- the host in the room ------------------------------------------ */

  await host.goto(hostUrl);
  {
    const sel = host.getByLabel('When the host leaves', { exact: true });
    ok(await until(async () => await sel.isVisible() &&
      await sel.locator('option:checked').textContent() === 'End the room'),
       'the room page shows the host "When the host leaves": "End the room"');
    const r = await until(async () => (await joinAs(host, 'Marta')) === true,
                          { timeout: 40000, every: 500 });
    if (!ok(r, 'the host joins', 'alert: ' + await alertOf(host))) return;
  }

  const ada = await open('Ada', inviteUrl);
  ok(await joinAs(ada, 'Ada') === true, 'Ada joins as a guest');
  const bruno = await open('Bruno', inviteUrl, { viewport: PHONE });
  ok(await joinAs(bruno, 'Bruno') === true, 'Bruno joins from a phone');

  await openPanel(host);
  ok(await until(async () => await row(host, 'Ada').count() === 1 &&
    await row(host, 'Bruno').count() === 1),
     "the host's list shows Ada and Bruno");
  for (const g of ['Ada', 'Bruno']) {
    ok(await button(row(host, g), 'Make co-host').isVisible() &&
       await button(row(host, g), 'Remove co-host').count() === 0,
       'the host has "Make co-host" for ' + g + ', a guest');
  }
  ok(await row(host, 'Marta').getByRole('button').count() === 0,
     "no buttons on the host's own row");
  await openPanel(ada);
  ok(await ada.locator('#people-list').getByRole('button').count() === 0 &&
     await ada.locator('#host-controls').isHidden(),
     'a guest has no buttons on the list and no host controls');
  await closePanel(ada);

  /* ---- Make co-host ---------------------------------------------------- */

  await button(row(host, 'Ada'), 'Make co-host').click();
  await sees(ada, NOW_COHOST, 'Ada is told "' + NOW_COHOST + '"');
  ok(await until(async () =>
    await ada.locator('#self .role-tag').isVisible() &&
    await ada.locator('#self .role-tag').textContent() === 'Co-host' &&
    await row(ada, 'Ada').locator('.role').textContent() === 'Co-host'),
     'her own tile and row say "Co-host"');
  ok(await until(async () => await button(ada, 'Lock room').isVisible()),
     'Ada sees "Lock room"');
  {
    const end = await button(ada, 'End room').count();
    const rotate = await button(ada, 'New invite link').count();
    const absent = await ada.getByLabel('When the host leaves')
      .filter({ visible: true }).count();
    ok(end === 0 && rotate === 0 && absent === 0,
       'Ada has no "End room", no "New invite link", no "When the host ' +
       'leaves"', JSON.stringify({ end, rotate, absent }));
  }
  ok(await ada.getByRole('heading', { name: 'Co-host controls' })
       .isVisible(), 'her controls are titled "Co-host controls"');
  {
    const bRow = row(ada, 'Bruno');
    const mRow = row(ada, 'Marta');
    ok(await until(async () => await button(bRow, 'Remove').isVisible()) &&
       await button(bRow, 'Ask to mute').isVisible(),
       'Ada has "Remove" and "Ask to mute" for Bruno, a guest');
    ok(await button(mRow, 'Ask to mute').isVisible() &&
       await button(mRow, 'Remove').count() === 0,
       'Ada has "Ask to mute" but no "Remove" for the host');
    ok(await ada.getByRole('button', { name: /co-host/i }).count() === 0,
       'Ada has no buttons to make or unmake co-hosts');
  }
  ok(await until(async () =>
    await row(host, 'Ada').locator('.role').textContent() === 'Co-host' &&
    await button(row(host, 'Ada'), 'Remove co-host').isVisible() &&
    await tileOf(host, 'Ada').locator('.role-tag').textContent() ===
      'Co-host'),
     'the host sees Ada as Co-host (list and tile), with "Remove co-host"');
  await openPanel(bruno);
  ok(await until(async () =>
    await row(bruno, 'Ada').locator('.role').textContent() === 'Co-host'),
     "Bruno's list shows Ada as Co-host");
  await closePanel(bruno);
  ok(await ada.evaluate((c) => !!localStorage.getItem('rooms.cohost.' + c),
                        code),
     "Ada's browser keeps her co-host key for the room");
  await shot(ada, 'cohost-1280x800');
  await shot(host, 'host-1280x800');
  await checkScreen(ada, 'the co-host on a desktop');

  /* ---- the co-host locks the room ------------------------------------- */

  await button(ada, 'Lock room').click();
  ok(await until(async () => (await apiRoom()).locked &&
    await button(ada, 'Unlock room').isVisible()),
     'Ada\'s "Lock room" locks the room; the button becomes "Unlock room"');
  await Promise.all([
    sees(ada, 'You locked the room', 'Ada is told "You locked the room"'),
    sees(bruno, 'The host locked the room',
         'Bruno is told the room was locked'),
    sees(host, 'The room was locked',
         'the host is told "The room was locked"'),
  ]);
  {
    const cleo = await open('Cleo', inviteUrl);
    const r = await joinAs(cleo, 'Cleo');
    ok(r === LOCKED_REFUSAL, 'a new guest is refused with the locked message',
       'got: ' + r);
    await shot(cleo, 'locked-1280x800');
    await people.Cleo.context.close();
  }
  await button(ada, 'Unlock room').click();
  ok(await until(async () => !(await apiRoom()).locked &&
    await button(ada, 'Lock room').isVisible()),
     'Ada\'s "Unlock room" unlocks the room');

  /* ---- the co-host on a phone ----------------------------------------- */

  await ada.setViewportSize(PHONE);
  await openPanel(ada);
  await button(ada, 'Lock room').scrollIntoViewIfNeeded();
  await shot(ada, 'cohost-panel-360x640');
  await checkScreen(ada, 'the co-host on a phone, the panel open');
  await closePanel(ada);
  await ada.setViewportSize(DESKTOP);

  /* ---- back with the same browser: still a co-host --------------------- */

  await ada.reload();
  ok(await joinAs(ada, 'Ada') === true, 'Ada reloads the page and joins again');
  ok(await until(async () => (await roomsState(ada)).role === 'cohost' &&
    await button(ada, 'Lock room').isVisible() &&
    await ada.locator('#self .role-tag').textContent() === 'Co-host'),
     'she is still a co-host (her browser sent the co-host key): "Lock ' +
     'room" and the Co-host tag', 'role: ' + (await roomsState(ada)).role);
  ok(await until(async () =>
    await button(row(host, 'Ada'), 'Remove co-host').isVisible()),
     'the host sees her back as a co-host');

  /* ---- Remove co-host -------------------------------------------------- */

  await button(row(host, 'Ada'), 'Remove co-host').click();
  await sees(ada, NO_LONGER, 'Ada is told "' + NO_LONGER + '"');
  ok(await until(async () => await button(ada, 'Lock room').count() === 0 &&
    await ada.locator('#host-controls').isHidden()),
     'her controls go ("Lock room" too)');
  await openPanel(ada);
  ok(await until(async () =>
    await ada.locator('#people-list').getByRole('button').count() === 0 &&
    await row(ada, 'Ada').locator('.role').textContent() === 'Guest' &&
    await ada.locator('#self .role-tag').isHidden()),
     'her list has no more buttons, and she is a Guest again');
  ok(await ada.evaluate((c) => localStorage.getItem('rooms.cohost.' + c),
                        code) === null,
     'her browser forgot the co-host key');
  ok(await until(async () =>
    await row(host, 'Ada').locator('.role').textContent() === 'Guest' &&
    await button(row(host, 'Ada'), 'Make co-host').isVisible() &&
    await tileOf(host, 'Ada').locator('.role-tag').isHidden()),
     'the host sees Ada as a guest again, with "Make co-host"');
  await shot(ada, 'guest-again-1280x800');

  /* ---- the host leaves: the room locks itself ---------------------------- */

  {
    const sel = host.getByLabel('When the host leaves', { exact: true });
    ok(await sel.isVisible(), 'in the call the host has "When the host ' +
       'leaves" too');
    await sel.selectOption({ label: 'Lock the room' });
    ok(await until(async () => (await apiRoom()).host_absent === 'lock'),
       'choosing "Lock the room" changes the room (PATCH host_absent)');
    await sel.scrollIntoViewIfNeeded();
    await shot(host, 'host-absent-1280x800');
    await button(host, 'Leave').click();
  }
  await Promise.all([
    sees(ada, SELF_LOCKED, 'when the host leaves, Ada is told "' +
         SELF_LOCKED + '"'),
    sees(bruno, SELF_LOCKED, 'when the host leaves, Bruno is told the ' +
         'same'),
  ]);
  await Promise.all([shot(bruno, 'host-left-360x640'),
                     shot(ada, 'host-left-1280x800')]);
  ok((await apiRoom()).locked, 'the room is locked');
  ok(await ada.evaluate(() => window.roomsState.joined) &&
     await bruno.evaluate(() => window.roomsState.joined),
     'Ada and Bruno stay in the call');

  /* ---- a room that ends when the host leaves (Italian) ------------------ */

  {
    const res = await fetch(ngx.base + 'api/rooms', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ host_absent: 'end' }),
    });
    const room2 = await res.json();
    if (!ok(res.status === 201, 'the API creates a room that ends when the ' +
            'host leaves', JSON.stringify(room2))) return;
    await host.goto(room2.host_url);
    ok(await until(async () => (await joinAs(host, 'Marta')) === true),
       'the host joins it');
    await bruno.goto(room2.invite_url);
    await bruno.getByLabel('Language').selectOption('it');
    ok(await joinAs(bruno, 'Bruno', { label: 'Il tuo nome', button: 'Entra' })
       === true, 'Bruno joins it, in Italian');
    // the host's words in Italian
    await host.getByLabel('Language').selectOption('it');
    await openPanel(host);
    ok(await until(async () =>
      await button(row(host, 'Bruno'), 'Rendi co-host').isVisible()) &&
      await host.getByLabel("Quando l'host esce", { exact: true })
        .locator('option:checked').textContent() === 'Termina la stanza',
       'in Italian: "Rendi co-host", "Quando l\'host esce": "Termina la ' +
       'stanza"');
    await button(host, 'Esci').click();
    let last = '';
    ok(await until(async () => {
      last = await alertOf(bruno);
      return last === ENDED_IT;
    }), 'when the host leaves, Bruno is told "' + ENDED_IT + '"',
       'alert: ' + last);
    ok(await until(async () => !(await roomsState(bruno)).joined),
       'Bruno is out of the call');
    await shot(bruno, 'ended-360x640');
  }

  for (const [name, p] of Object.entries(people)) {
    ok(p.errors.length === 0, name + "'s page threw no errors",
       p.errors.join('\n'));
    const csp = p.console.filter((l) => /Content Security Policy|Refused to/
      .test(l));
    ok(csp.length === 0, name + "'s page broke no CSP rule", csp.join('\n'));
  }
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
