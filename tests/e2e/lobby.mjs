// The lobby (docs/protocol.md, "The lobby"): a room with admission
// "knock", created on the create page; a host (Marta, through the host
// link) and guests in headless Chromiums, through the real nginx (2
// workers) and the real media worker.  Prints TAP; run it through
// lobby.t (a network namespace with only `lo`, a hard deadline).
//
//   - the create page's "Who gets in" makes a knock room, in English and
//     in Italian;
//   - a guest (Ada) who joins waits: "Waiting for the host to let you
//     in…" (role=status), a Leave button, no tiles, no camera or
//     microphone asked for, no peer connection;
//   - the host sees Ada under "Waiting" in the participant panel with
//     "Admit" and "Deny", and the people button counts who waits;
//   - Admit: Ada gets in, and she and the host decode each other's video
//     and audio (getStats);
//   - Bruno knocks while the host's panel is closed: a banner with his
//     name, "Admit" and "Deny"; Deny: Bruno is told "The host did not let
//     you in." and never got media; the API counts 2 participants;
//   - denial is not a ban: Bruno knocks again, then leaves the lobby
//     himself, and the host sees him go (lobby_left);
//   - Italian: "In attesa che l'host ti faccia entrare…" for an it-IT
//     guest, "In attesa", "Ammetti", "Rifiuta" for the host, "L'host non
//     ti ha fatto entrare.";
//   - nobody in the room: a guest waits until the host comes, and the
//     host's welcome lists her (welcome.lobby);
//   - screenshots at 1280x800 and 360x640 in build/e2e/.

import {
  top, ok, diag, sleep, until, openPerson, alertOf, joinAs,
  countMediaRequests, receivedInPage, scenarioRun, roomsState, listRow,
  openPanel, closePanel, checkScreen, launchChromium, screenshot,
  startServers,
} from './lib.mjs';

const DEADLINE = 160000;      // the whole run; only a failing run reaches it
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 640 };

const WAITING = 'Waiting for the host to let you in…';
const WAITING_IT = "In attesa che l'host ti faccia entrare…";
const DENIED = 'The host did not let you in.';
const DENIED_IT = "L'host non ti ha fatto entrare.";

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const shot = (page, tag) => screenshot(page, 'lobby-' + tag);

// every guest counts its camera and microphone requests (window.__gum)
const open = (name, url, opts = {}) => openPerson(browser, people, name, url,
  Object.assign({ init: [countMediaRequests] }, opts));
const statusOf = (page) => page.getByRole('status').textContent();

// A row of the host's lobby (or participant) list, by the exact name.
const lobbyRow = (page, name) => listRow(page, '#lobby-list', name);
const personRow = (page, name) => listRow(page, '#people-list', name);

// What a guest who was never let in has had: no camera or microphone
// request, no peer connection, no tiles of others, nobody's names.
const mediaOf = (page) => page.evaluate(() => ({
  gum: window.__gum,
  pcs: (window.__pcs || []).length,
  local: !!document.getElementById('local').srcObject,
  tiles: document.querySelectorAll('#tiles [data-participant]').length,
  participants: Object.keys(window.roomsState.participants).length,
}));
const noMedia = (m) => m.gum === 0 && m.pcs === 0 && !m.local &&
                       m.tiles === 0 && m.participants === 0;

// Presses Join (in the page's language) and waits until the page says it
// waits in the lobby, or shows an alert, or is in the call.
async function knock(page, name, { label = 'Your name', button = 'Join',
                                   waiting = WAITING } = {}) {
  await page.getByLabel(label, { exact: true }).fill(name);
  await page.getByRole('button', { name: button, exact: true }).click();
  return until(async () => {
    const s = await roomsState(page);
    if (s.joined) return 'joined (no lobby)';
    if (s.waiting && await statusOf(page) === waiting) return true;
    const a = await alertOf(page);
    return a || false;
  }, { timeout: 20000 });
}

// each of them decodes the other's video and plays the other's audio
async function hearsAndSees(page, other) {
  const r = await page.evaluate(receivedInPage);
  return r && r[other] && r[other].video.some((v) => v > 0) &&
         r[other].audio.some((v) => v > 0) ? r : false;
}

/* ------------------------------------------------------------------------ */

async function scenario() {
  const servers = await startServers(dir);
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module: 2 workers')) return;

  browser = await launchChromium();

  const apiRoom = async (code) =>
    (await fetch(ngx.base + 'api/rooms/' + code)).json();
  const codeOf = (url) => new URL(url).pathname.split('/').pop();

  /* ---- the create page makes a knock room, in both languages -------- */

  let room;
  {
    const host = await open('Marta', ngx.base);
    const select = host.getByLabel('Who gets in', { exact: true });
    const options = await select.locator('option').allTextContents();
    ok(options.join('|') === 'Anyone with the link|People I admit',
       'the create page asks "Who gets in": "Anyone with the link" or ' +
       '"People I admit"', 'options: ' + options.join('|'));
    await host.getByLabel('Title', { exact: true }).fill('Book club');
    await select.selectOption({ label: 'People I admit' });
    await host.getByRole('button', { name: 'Create room' }).click();
    const made = await until(async () =>
      (await host.locator('#host').inputValue()).includes('#host='));
    if (!ok(made, 'the create page creates the room and shows its links',
            'alert: ' + await alertOf(host))) {
      return;
    }
    room = {
      host_url: await host.locator('#host').inputValue(),
      invite_url: await host.locator('#invite').inputValue(),
    };
    room.code = codeOf(room.invite_url);
    const api = await apiRoom(room.code);
    ok(api.admission === 'knock',
       '"People I admit" makes a room with admission "knock" (API)',
       JSON.stringify(api));
    await shot(host, 'create-1280x800');
  }
  {
    const it = await open('Ilaria', ngx.base,
                          { viewport: PHONE, locale: 'it-IT' });
    const select = it.getByLabel('Chi può entrare', { exact: true });
    const options = await select.locator('option').allTextContents();
    ok(options.join('|') === 'Chiunque abbia il link|Le persone che ammetto',
       'in Italian: "Chi può entrare": "Chiunque abbia il link" or "Le ' +
       'persone che ammetto"', 'options: ' + options.join('|'));
    await select.selectOption({ label: 'Le persone che ammetto' });
    await shot(it, 'create-it-360x640');
    await checkScreen(it, 'the Italian create page on a phone');
    await it.getByRole('button', { name: 'Crea la stanza' }).click();
    const made = await until(async () =>
      (await it.locator('#invite').inputValue()).includes('/r/'));
    const api = made && await apiRoom(codeOf(
      await it.locator('#invite').inputValue()));
    ok(api && api.admission === 'knock',
       '... and "Le persone che ammetto" makes a knock room',
       JSON.stringify(api));
  }

  /* ---- the host joins ------------------------------------------------- */

  const host = people.Marta.page;
  await host.goto(room.host_url);
  ok(await until(async () => await statusOf(host) ===
    'People wait until you admit them.'),
     'the host link of a knock room says "People wait until you admit ' +
     'them."', 'status: ' + await statusOf(host));
  {
    const r = await until(async () => (await joinAs(host, 'Marta')) === true,
                          { timeout: 40000, every: 500 });
    if (!ok(r, 'the host joins', 'alert: ' + await alertOf(host))) return;
  }
  ok(await until(async () => (await roomsState(host)).role === 'host'),
     'the server says the host is the host (welcome.role)');
  ok(await host.locator('#lobby').isHidden(),
     'nobody waits yet: no "Waiting" section');

  /* ---- Ada knocks, and waits ------------------------------------------ */

  const ada = await open('Ada', room.invite_url);
  ok(await statusOf(ada) ===
     'The host lets people into this room: you will wait until they admit ' +
     'you.', 'the invite link of a knock room says the host lets people in',
     'status: ' + await statusOf(ada));
  {
    const r = await knock(ada, 'Ada');
    if (!ok(r === true, 'Ada joins and sees "' + WAITING + '" (role=status)',
            'got: ' + r + '; status: ' + await statusOf(ada) +
            '; roomsState: ' + JSON.stringify(await roomsState(ada)))) {
      diag('the server does not answer "waiting" (docs/protocol.md, ' +
           '"The lobby"): nothing after this step can be tested');
      return;
    }
  }
  await sleep(1500);          // time for anything that should not happen
  {
    const s = await roomsState(ada);
    ok(!s.joined && s.waiting, 'Ada is not in the call: she waits');
    const m = await mediaOf(ada);
    ok(noMedia(m), 'Ada, waiting, has no tiles of others, asked for no ' +
       'camera or microphone and has no peer connection', JSON.stringify(m));
    ok(await ada.getByRole('button', { name: 'Leave', exact: true })
         .isVisible() &&
       await ada.getByLabel('Your name', { exact: true }).isHidden(),
       'the waiting page has a "Leave" button instead of the join form');
    ok(await ada.locator('#waiting').textContent().then((t) =>
      t.includes('You are waiting as “Ada”.')),
       'the waiting page says under which name she waits');
  }
  await shot(ada, 'guest-waiting-1280x800');
  await checkScreen(ada, 'a guest waiting on a desktop');

  /* ---- the host sees her, in the panel -------------------------------- */

  {
    ok(await until(async () => await lobbyRow(host, 'Ada').count() === 1),
       'the host sees Ada in the lobby (knock)',
       'lobby: ' + JSON.stringify((await roomsState(host)).lobby));
    ok(await host.getByRole('heading', { name: 'Waiting', exact: true })
         .isVisible(),
       'the host\'s participant panel has a "Waiting" section');
    const r = lobbyRow(host, 'Ada');
    ok(await r.getByRole('button', { name: 'Admit', exact: true })
         .isVisible() &&
       await r.getByRole('button', { name: 'Deny', exact: true }).isVisible(),
       'Ada\'s row has "Admit" and "Deny"');
    ok(await personRow(host, 'Ada').count() === 0,
       'Ada is not among the participants yet');
    ok(await host.getByRole('button', { name: /^Participants 1 1 waiting$/ })
         .isVisible(),
       'the people button counts 1 participant and 1 waiting');
  }
  await shot(host, 'host-lobby-1280x800');
  await checkScreen(host, 'the host with someone waiting, on a desktop');

  /* ---- Admit ---------------------------------------------------------- */

  await lobbyRow(host, 'Ada').getByRole('button', { name: 'Admit' }).click();
  {
    const inCall = await until(async () => (await roomsState(ada)).joined);
    ok(inCall, '"Admit": Ada gets in (welcome)',
       'alert: ' + await alertOf(ada) + '; status: ' + await statusOf(ada));
    if (!inCall) return;
    ok(await ada.locator('#waiting').isHidden() &&
       await ada.locator('#call').isVisible(),
       'Ada\'s page leaves the waiting screen for the call');
    ok(await until(async () => await lobbyRow(host, 'Ada').count() === 0 &&
      await host.locator('#lobby').isHidden() &&
      await host.locator('#lobby-count').isHidden()),
       'Ada leaves the host\'s lobby (lobby_left), and the count goes');
    ok(await until(async () => await personRow(host, 'Ada').count() === 1),
       'Ada is in the host\'s participant list');
    ok(await until(async () => await statusOf(ada) ===
      'You are in the room with 1 other person.'),
       'Ada\'s page says she is in the room with 1 other person');
    ok((await mediaOf(ada)).gum > 0,
       'only now does Ada\'s page ask for the camera and microphone');
    for (const [page, name, other] of [[host, 'the host', 'Ada'],
                                       [ada, 'Ada', 'Marta']]) {
      const r = await until(() => hearsAndSees(page, other),
                            { timeout: 40000 });
      ok(r, name + ' sees and hears ' + other + ' (inbound-rtp ' +
         'framesDecoded > 0, totalSamplesReceived > 0)',
         'stats: ' + JSON.stringify(await page.evaluate(receivedInPage)));
      if (r) diag(name + ' receives ' + JSON.stringify(r));
    }
  }
  await shot(ada, 'guest-in-1280x800');

  /* ---- Bruno knocks while the host's panel is closed: Deny ----------- */

  await closePanel(host);
  const bruno = await open('Bruno', room.invite_url, { viewport: PHONE });
  {
    const r = await knock(bruno, 'Bruno');
    ok(r === true, 'Bruno joins from a phone and waits', 'got: ' + r);
    ok(noMedia(await mediaOf(bruno)), 'Bruno, waiting, has no media');
  }
  await shot(bruno, 'guest-waiting-360x640');
  await checkScreen(bruno, 'a guest waiting on a phone');
  const banner = host.locator('#knock');
  {
    ok(await until(async () => await banner.isVisible() &&
      await banner.textContent().then((t) =>
        t.includes('Bruno is waiting to join'))),
       'the host, panel closed, gets a banner: "Bruno is waiting to join"',
       'banner: ' + await banner.textContent());
    ok(await banner.getByRole('button', { name: 'Admit', exact: true })
         .isVisible() &&
       await banner.getByRole('button', { name: 'Deny', exact: true })
         .isVisible(),
       'the banner has "Admit" and "Deny"');
    ok(await host.getByRole('button', { name: /^Participants 2 1 waiting$/ })
         .isVisible(),
       'the people button counts 2 participants and 1 waiting');
    await shot(host, 'host-knock-1280x800');
    await checkScreen(host, 'the host with a knock banner, on a desktop');
    await host.setViewportSize(PHONE);
    await shot(host, 'host-knock-360x640');
    await checkScreen(host, 'the host with a knock banner, on a phone');
    const fits = await host.evaluate(() => {
      const b = document.getElementById('knock').getBoundingClientRect();
      const c = document.querySelector('.controls').getBoundingClientRect();
      return b.bottom <= c.top && b.left >= 0 && b.right <= innerWidth;
    });
    ok(fits, 'on a phone the banner is on screen, clear of the controls');
    await host.setViewportSize(DESKTOP);
  }
  await banner.getByRole('button', { name: 'Deny', exact: true }).click();
  {
    ok(await until(async () => await alertOf(bruno) === DENIED),
       '"Deny": Bruno is told "' + DENIED + '"',
       'alert: ' + await alertOf(bruno));
    const s = await roomsState(bruno);
    ok(!s.joined && !s.waiting &&
       await bruno.getByRole('button', { name: 'Join', exact: true })
         .isVisible(),
       'Bruno is out, with the join form back');
    ok(noMedia(await mediaOf(bruno)),
       'Bruno never got media (no camera, no peer connection, no tiles)',
       JSON.stringify(await mediaOf(bruno)));
    ok(await until(async () => await banner.isHidden() &&
      await host.locator('#lobby-count').isHidden() &&
      Object.keys((await roomsState(host)).lobby).length === 0),
       'the host\'s banner and count go (lobby_left)');
    ok((await roomsState(ada)).joined && (await roomsState(host)).joined,
       'the host and Ada are still in the call');
  }
  await shot(bruno, 'guest-denied-360x640');
  {
    let last;
    const two = await until(async () => {
      last = await apiRoom(room.code);
      return last.participants === 2;
    }, { timeout: 15000 });
    ok(two, 'GET /api/rooms/<code> counts 2 participants (the host and ' +
       'Ada; not who was denied)', 'room: ' + JSON.stringify(last));
  }

  /* ---- denial is not a ban; leaving the lobby ------------------------- */

  {
    const r = await knock(bruno, 'Bruno');
    ok(r === true, 'Bruno may knock again after a denial', 'got: ' + r);
    ok(await until(async () => await banner.isVisible() &&
      await banner.textContent().then((t) => t.includes('Bruno'))),
       'the host sees Bruno knock again');
    await bruno.getByRole('button', { name: 'Leave', exact: true }).click();
    ok(await until(async () => await statusOf(bruno) ===
      'You left the room.') &&
       await bruno.getByRole('button', { name: 'Join', exact: true })
         .isVisible(),
       '"Leave" while waiting: "You left the room.", the join form is back');
    ok(await until(async () => await banner.isHidden() &&
      Object.keys((await roomsState(host)).lobby).length === 0),
       'the host sees Bruno leave the lobby (lobby_left): the banner goes');
  }

  /* ---- Italian -------------------------------------------------------- */

  {
    const it = people.Ilaria.page;
    await it.goto(room.invite_url);
    ok(await statusOf(it) === "In questa stanza è l'host a far entrare le " +
       'persone: aspetterai finché non ti ammette.',
       'the Italian room page says the host lets people in',
       'status: ' + await statusOf(it));
    const r = await knock(it, 'Ilaria', { label: 'Il tuo nome',
                                          button: 'Entra',
                                          waiting: WAITING_IT });
    ok(r === true, 'an it-IT guest sees "' + WAITING_IT + '"',
       'got: ' + r + '; status: ' + await statusOf(it));
    ok(await it.getByRole('button', { name: 'Esci', exact: true })
         .isVisible(), '... and "Esci"');
    await shot(it, 'guest-waiting-it-360x640');
    await checkScreen(it, 'an Italian guest waiting on a phone');

    await openPanel(host);
    await host.getByLabel('Language').selectOption('it');
    const row = lobbyRow(host, 'Ilaria');
    ok(await until(async () => await host.getByRole('heading',
      { name: 'In attesa', exact: true }).isVisible() &&
      await row.getByRole('button', { name: 'Ammetti', exact: true })
        .isVisible() &&
      await row.getByRole('button', { name: 'Rifiuta', exact: true })
        .isVisible()),
       'the host in Italian: "In attesa", "Ammetti", "Rifiuta"');
    ok(await host.getByRole('button',
      { name: /^Partecipanti 2 1 in attesa$/ }).isVisible(),
       'the Italian people button: "Partecipanti 2 1 in attesa"');
    await shot(host, 'host-lobby-it-1280x800');
    await row.getByRole('button', { name: 'Rifiuta', exact: true }).click();
    ok(await until(async () => await alertOf(it) === DENIED_IT),
       'Rifiuta: the guest is told "' + DENIED_IT + '"',
       'alert: ' + await alertOf(it));
    await shot(it, 'guest-denied-it-360x640');
    await host.getByLabel('Lingua').selectOption('en');
  }

  /* ---- nobody to let her in: Cleo waits for the host ------------------ */

  {
    await host.getByRole('button', { name: 'Leave', exact: true }).click();
    ok(await until(async () => !(await roomsState(host)).joined),
       'the host leaves the call');
    const cleo = await open('Cleo', room.invite_url);
    const r = await knock(cleo, 'Cleo');
    ok(r === true, 'with no host in the room, Cleo waits', 'got: ' + r);
    ok(await until(async () => (await joinAs(host, 'Marta')) === true),
       'the host joins again');
    ok(await until(async () => await lobbyRow(host, 'Cleo').count() === 1),
       'the host\'s welcome lists Cleo as waiting (welcome.lobby)',
       'lobby: ' + JSON.stringify((await roomsState(host)).lobby));
    await lobbyRow(host, 'Cleo').getByRole('button', { name: 'Admit' })
      .click();
    ok(await until(async () => (await roomsState(cleo)).joined),
       'the host admits Cleo, and she is in');
    let last;
    ok(await until(async () => {
      last = await apiRoom(room.code);
      return last.participants === 3;
    }, { timeout: 15000 }), 'GET /api/rooms/<code> counts 3 participants',
       'room: ' + JSON.stringify(last));
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
  if (!finishing) ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
