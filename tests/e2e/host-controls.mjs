// Host controls and the room people use: a host (Marta, through the host
// link) and guests in headless Chromiums, through the real nginx (2
// workers) and the real media worker.  Prints TAP; run it through
// host-controls.t (a network namespace with only `lo`, a hard deadline).
//
//   - the grid: 1 tile fills the stage, 2 sit side by side, 50 fit a
//     1280x800 screen, a 360x640 phone gets 2 columns and scrolls;
//   - the host's participant list: every guest with "Ask to mute" and
//     "Remove", none of it for guests; roles on tiles and in the list;
//   - Ask to mute: the guest's microphone goes off and they are told;
//   - Lock room: a new guest is refused with the locked message; the
//     guests are told the host locked the room;
//   - Remove (after the confirm dialog): the guest is told, the others see
//     the tile go; back with the same browser (its guest token), the
//     guest is refused as removed, also with the room unlocked;
//   - devices: the microphone switches without a renegotiation;
//   - the active speaker is highlighted;
//   - Italian for an it-IT browser, the language switch, remembered;
//   - End room: everyone is told the room ended;
//   - phone and desktop: no sideways scrolling, the controls at the bottom
//     of a phone, every control named; screenshots in build/e2e/.
//
// The host's actions over the WebSocket need the server side of
// docs/protocol.md (welcome.role, remove, mute, lock, end); the steps are
// written against the protocol, and poll for its effects.

import {
  top, ok, sleep, until, openPerson, alertOf, joinAs, fitsWidth, scenarioRun,
  roomsState, listRow, openPanel, closePanel, checkScreen, launchChromium,
  screenshot, startServers,
} from './lib.mjs';

const DEADLINE = 170000;      // the whole run; only a failing run reaches it
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 640 };

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const shot = (page, tag) => screenshot(page, 'host-controls-' + tag);

const open = (name, url, opts) => openPerson(browser, people, name, url, opts);
const pageOf = (name) => people[name].page;

// A row of the participant list, by the exact name on it.
const row = (page, name) => listRow(page, '#people-list', name);

// The tiles' boxes in the page: [{x, y, w, h}], ours first.
const tileBoxes = (page) => page.evaluate(() =>
  [...document.querySelectorAll('#tiles > .tile')].map((t) => {
    const r = t.getBoundingClientRect();
    return { x: r.x, y: r.y, w: r.width, h: r.height };
  }));

const stageBox = (page) => page.evaluate(() => {
  const el = document.getElementById('tiles');
  return { w: el.clientWidth, h: el.clientHeight, sh: el.scrollHeight,
           cols: Number(el.dataset.cols),
           scroll: el.classList.contains('scroll') };
});

// A phone's controls: on screen, at the very bottom.
const barAtBottom = (page) => page.evaluate(() => {
  const r = document.querySelector('.controls').getBoundingClientRect();
  return r.height > 0 && Math.abs(r.bottom - window.innerHeight) < 1 &&
         r.top >= window.innerHeight - 90;
});

/* ------------------------------------------------------------------------ */

async function scenario() {
  const servers = await startServers(dir);
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module: 2 workers')) return;

  // no title: the page shows the activity's label, in each language
  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ activity: 'drinks' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201 && room.host_url, 'the API creates a room',
          JSON.stringify(room))) {
    return;
  }
  const apiRoom = async () =>
    (await fetch(ngx.base + 'api/rooms/' + room.code)).json();

  browser = await launchChromium();

  /* ---- the host alone: one tile fills the stage ---------------------- */

  const host = await open('Marta', room.host_url);
  await shot(host, 'host-join-1280x800');
  ok(await host.getByRole('button', { name: 'Lock room' }).isVisible() &&
     await host.getByRole('button', { name: 'End room' }).isVisible(),
     'the host link shows the host controls before joining');
  {
    // not in the call, the host's buttons use the JSON API
    await host.getByRole('button', { name: 'Lock room', exact: true }).click();
    ok(await until(async () => (await apiRoom()).locked &&
      await host.getByRole('button', { name: 'Unlock room', exact: true })
        .isVisible() &&
      (await host.locator('#status').textContent()) ===
        'The host has locked this room.'),
       'before joining, "Lock room" locks the room through the API');
    await host.getByRole('button', { name: 'Unlock room', exact: true })
      .click();
    ok(await until(async () => !(await apiRoom()).locked &&
      await host.getByRole('button', { name: 'Lock room', exact: true })
        .isVisible()),
       'before joining, "Unlock room" unlocks it through the API');
  }
  {
    const r = await until(async () => (await joinAs(host, 'Marta')) === true,
                          { timeout: 40000, every: 500 });
    if (!ok(r, 'the host joins', 'alert: ' + await alertOf(host))) return;
  }
  ok(await until(async () => (await roomsState(host)).role === 'host'),
     'the server says the host is the host (welcome.role)',
     'roomsState: ' + JSON.stringify(await roomsState(host)));
  ok(await host.locator('#self .role-tag').isVisible(),
     "the host's own tile says Host");
  {
    await closePanel(host);
    await sleep(300);
    const [self] = await tileBoxes(host);
    const st = await stageBox(host);
    ok(self && (self.w >= st.w * 0.95 || self.h >= st.h * 0.95),
       'one person: the tile fills the stage',
       JSON.stringify({ self, st }));
    await openPanel(host);
  }

  /* ---- two guests; one on a phone ------------------------------------- */

  const ada = await open('Ada', room.invite_url);
  ok(await joinAs(ada, 'Ada') === true, 'Ada joins as a guest');
  {
    const st = await until(async () => {
      const s = await roomsState(ada);
      return s.role && s.id ? s : false;
    });
    ok(st && st.role === 'guest', "Ada's welcome says guest",
       JSON.stringify(st));
    const tok = await ada.evaluate((c) =>
      localStorage.getItem('rooms.guest.' + c), room.code);
    ok(tok && tok.length >= 16,
       "Ada's browser keeps the guest token of the room (localStorage)",
       'token: ' + tok);
  }
  {
    // two people on a desktop: side by side, the same size
    await sleep(500);
    const boxes = await tileBoxes(ada);
    ok(boxes.length === 2 && Math.abs(boxes[0].y - boxes[1].y) < 1 &&
       Math.abs(boxes[0].w - boxes[1].w) < 1 && boxes[0].w > 400,
       'two people on a desktop: two tiles side by side',
       JSON.stringify(boxes));
  }

  const bruno = await open('Bruno', room.invite_url, { viewport: PHONE });
  ok(await joinAs(bruno, 'Bruno') === true, 'Bruno joins from a phone');

  {
    const names = async () => host.locator('#people-list .pname')
      .allTextContents();
    const listed = await until(async () => {
      const n = await names();
      return ['Marta', 'Ada', 'Bruno'].every((x) => n.includes(x)) ? n : false;
    });
    ok(listed, "the host's participant list shows everyone",
       'names: ' + (await names()).join(', '));
    for (const g of ['Ada', 'Bruno']) {
      const r = row(host, g);
      ok(await r.getByRole('button', { name: 'Remove', exact: true })
           .isVisible() &&
         await r.getByRole('button', { name: 'Ask to mute', exact: true })
           .isVisible() &&
         (await r.locator('.role').textContent()) === 'Guest',
         "the host's list shows " + g + ' as a guest, with "Remove" and ' +
         '"Ask to mute"');
    }
    ok(await row(host, 'Marta').getByRole('button').count() === 0,
       'no buttons on the host\'s own row');
    ok(await host.getByRole('button', { name: /^Participants 3$/ })
         .isVisible(),
       'the "Participants" button counts 3');
  }
  {
    await openPanel(ada);
    ok(await row(ada, 'Marta').locator('.role').textContent() === 'Host' &&
       await ada.locator('#people-list').getByRole('button').count() === 0,
       "a guest's list shows the host's role and no host buttons");
    ok(await ada.locator('[data-participant]', { hasText: 'Marta' })
         .locator('.role-tag').isVisible(),
       "the host's tile says Host on the guests' screens");
    ok(await ada.locator('#host-controls').isHidden(),
       'a guest has no host controls');
    await closePanel(ada);
  }

  // the layout on both screens, in the call
  await shot(host, 'host-1280x800');
  await checkScreen(host, 'the host on a desktop');
  {
    // a tablet: the panel opens over the tiles
    await host.setViewportSize({ width: 820, height: 1180 });
    await openPanel(host);
    await shot(host, 'host-panel-820x1180');
    await checkScreen(host, 'the host on a tablet, the panel open');
    await host.setViewportSize(DESKTOP);
  }
  await shot(bruno, 'guest-360x640');
  await checkScreen(bruno, 'a guest on a phone');
  ok(await barAtBottom(bruno), 'on a phone the controls sit at the bottom');
  await openPanel(bruno);
  await shot(bruno, 'guest-panel-360x640');
  ok(await bruno.locator('#people-list').isVisible() &&
     await barAtBottom(bruno),
     'on a phone the participant panel opens over the tiles, the controls ' +
     'still below');
  await closePanel(bruno);

  /* ---- the active speaker, and devices -------------------------------- */

  ok(await until(() => host.evaluate(() =>
    !!document.querySelector('#tiles .tile.speaking')), { timeout: 15000 }),
     "the loudest person is highlighted as speaking (the server's speaker " +
     'message)', 'speaker: ' + JSON.stringify((await roomsState(host)).speaker));

  {
    await ada.getByRole('button', { name: 'Settings' }).click();
    const mic = ada.getByLabel('Microphone device', { exact: true });
    const cam = ada.getByLabel('Camera device', { exact: true });
    // the dialog opens once the devices are listed
    await ada.locator('#settings').waitFor({ state: 'visible' });
    const options = await mic.locator('option').evaluateAll((os) =>
      os.map((o) => ({ value: o.value, label: o.textContent })));
    ok(options.length >= 2 && await cam.locator('option').count() >= 1,
       'Settings lists the microphones and cameras (enumerateDevices)',
       JSON.stringify(options));
    await shot(ada, 'settings-1280x800');
    const before = await roomsState(ada);
    const current = await mic.inputValue();
    const other = options.find((o) => o.value !== current);
    if (other) {
      await mic.selectOption(other.value);
      const label = await until(() => ada.evaluate(() => {
        const s = window.__pcs.at(-1).getSenders()
          .find((x) => x.track && x.track.kind === 'audio');
        return s && s.track.label;
      }).then((l) => (l === other.label ? l : false)));
      ok(label, 'switching the microphone replaces the sent track',
         'wanted ' + other.label);
      await sleep(1000);
      ok((await roomsState(ada)).offers === before.offers,
         'switching the microphone needs no renegotiation (no new offer)');
    }
    await ada.getByRole('button', { name: 'Close', exact: true }).click();
    ok(await ada.locator('#settings').isHidden(), 'Close closes Settings');
  }

  /* ---- Ask to mute ---------------------------------------------------- */

  {
    await row(host, 'Ada').getByRole('button', { name: 'Ask to mute' })
      .click();
    const muted = await until(async () =>
      await ada.locator('#mic').getAttribute('aria-pressed') === 'false' &&
      (await ada.locator('#notice').textContent())
        .includes('The host asked you to mute'));
    ok(muted, '"Ask to mute": the guest\'s microphone goes off and the ' +
       'page says "The host asked you to mute"');
    await shot(ada, 'guest-muted-1280x800');
    ok(await until(async () =>
      (await row(host, 'Ada').locator('.media').textContent())
        .includes('mic off') &&
      await host.locator('[data-participant]', { hasText: 'Ada' })
        .locator('[data-badge="audio"]').isVisible()),
       "the host sees Ada's microphone off (list and tile badge)");
    ok(await row(host, 'Ada').getByRole('button', { name: 'Ask to mute' })
         .isDisabled(), '"Ask to mute" is off for a muted person');
  }

  /* ---- Lock room ------------------------------------------------------ */

  {
    await host.getByRole('button', { name: 'Lock room', exact: true }).click();
    ok(await until(async () =>
      await host.getByRole('button', { name: 'Unlock room', exact: true })
        .count() === 1 && (await apiRoom()).locked),
       '"Lock room" locks the room, and the button becomes "Unlock room"');
    ok(await until(async () => (await ada.locator('#notice').textContent())
      .includes('The host locked the room')),
       'the guests are told "The host locked the room"');
    const cleo = await open('Cleo', room.invite_url);
    const r = await joinAs(cleo, 'Cleo');
    ok(r === 'The host has locked this room: nobody new can join.',
       'a new guest is refused with the locked message', 'got: ' + r);
    await shot(cleo, 'locked-1280x800');
    await cleo.getByRole('button', { name: 'Copy invite link' }).click();
    ok(await cleo.locator('#invite').inputValue() === room.invite_url &&
       await until(async () => await cleo.locator('#copy-invite')
         .textContent() === 'Copied'),
       'the room page has the invite link, and "Copy invite link" copies it');
  }

  /* ---- Remove --------------------------------------------------------- */

  {
    let asked = '';
    host.once('dialog', (d) => {
      asked = d.message();
      d.accept();
    });
    await row(host, 'Bruno').getByRole('button', { name: 'Remove' }).click();
    ok(/Bruno/.test(asked), 'Remove asks for confirmation first',
       'dialog: ' + asked);
    const told = await until(async () => (await alertOf(bruno)) ===
      'You were removed from this room by the host.');
    ok(told, 'the removed guest is told "You were removed from this room ' +
       'by the host."', 'alert: ' + await alertOf(bruno));
    ok(await until(async () => !(await roomsState(bruno)).joined),
       'the removed guest is out of the call');
    await shot(bruno, 'removed-360x640');
    for (const [name, page] of [['Ada', ada], ['the host', host]]) {
      ok(await until(async () => await page.locator('[data-participant]',
        { hasText: 'Bruno' }).count() === 0),
         name + " sees Bruno's tile go");
    }
    ok(await until(async () => await row(host, 'Bruno').count() === 0),
       "Bruno leaves the host's list");
  }

  {
    await host.getByRole('button', { name: 'Unlock room', exact: true })
      .click();
    ok(await until(async () => !(await apiRoom()).locked &&
      await host.getByRole('button', { name: 'Lock room', exact: true })
        .count() === 1),
       '"Unlock room" unlocks the room');
    ok(await until(async () => (await ada.locator('#notice').textContent())
      .includes('The host unlocked the room')),
       'the guests are told the host unlocked the room');
    await bruno.reload();
    const r = await joinAs(bruno, 'Bruno');
    ok(r === 'You were removed from this room by the host.',
       'the removed guest, back with the same browser, is refused as ' +
       'removed (also with the room unlocked)', 'got: ' + r);
  }

  /* ---- Italian -------------------------------------------------------- */

  {
    // (and a dark system theme: the pages follow it)
    const it = await open('Ilaria', room.invite_url,
                          { viewport: PHONE, locale: 'it-IT',
                            colorScheme: 'dark' });
    ok(await it.getByLabel('Il tuo nome', { exact: true }).isVisible() &&
       await it.getByRole('button', { name: 'Entra', exact: true })
         .isVisible(),
       'an Italian browser gets "Il tuo nome" and "Entra"');
    ok(await it.locator('h1').textContent() === 'Aperitivo' &&
       await it.evaluate(() => document.documentElement.lang) === 'it',
       'the title is the activity in Italian (activity_label.it)');
    await shot(it, 'it-join-360x640');
    await it.getByLabel('Lingua').selectOption('en');
    ok(await it.getByLabel('Your name', { exact: true }).isVisible() &&
       await it.locator('h1').textContent() === 'Drinks',
       'the language switch turns the page English');
    await it.reload();
    ok(await it.getByLabel('Your name', { exact: true }).isVisible(),
       'the choice is remembered (localStorage)');
    await it.getByLabel('Language').selectOption('it');
    ok(await joinAs(it, 'Ilaria', { label: 'Il tuo nome', button: 'Entra' })
       === true, 'Ilaria joins in Italian');
    for (const name of ['Microfono', 'Fotocamera', 'Esci']) {
      ok(await it.getByRole('button', { name, exact: true }).isVisible(),
         'the Italian call has "' + name + '"');
    }
    ok(await it.getByRole('button', { name: /^Partecipanti \d+$/ })
         .isVisible(), 'the Italian call has "Partecipanti"');
    ok(await until(async () => /^Sei nella stanza con altre 2 persone\.$/
      .test(await it.locator('#status').textContent())),
       'the status line is Italian too');
    await shot(it, 'it-call-360x640');
    await checkScreen(it, 'the Italian call on a phone');
    ok(await barAtBottom(it), 'the Italian call has the controls at the ' +
       'bottom');

    const create = await people.Ilaria.context.newPage();
    await create.goto(ngx.base);
    ok(await create.getByRole('heading', { name: 'Crea una stanza' })
         .isVisible() &&
       await create.getByLabel('Attività').locator('option:checked')
         .textContent() === 'Chiacchierata' &&
       await create.getByRole('button', { name: 'Crea la stanza' })
         .isVisible(),
       'the create page in Italian (the activities too)');
    await shot(create, 'create-it-360x640');
    await checkScreen(create, 'the create page on a phone');
    await create.close();
    const en = await people.Cleo.context.newPage();
    await en.goto(ngx.base);
    await en.getByRole('button', { name: 'Create room' }).click();
    ok(await until(async () => (await en.locator('#invite').inputValue())
      .includes('/r/') && (await en.locator('#host').inputValue())
      .includes('#host=')),
       'the create page creates a room and shows both links');
    await shot(en, 'create-1280x800');
    await en.close();
  }

  /* ---- the host removes someone who just left -------------------------- */

  // The confirm dialog is open while Ilaria leaves: the remove reaches
  // the server for nobody (no_such_participant), and the host is told.
  {
    const it = pageOf('Ilaria');
    let asked = '';
    host.once('dialog', async (d) => {
      asked = d.message();
      await it.getByRole('button', { name: 'Esci', exact: true }).click();
      await sleep(1500);          // the server has seen the leave
      await d.accept();
    });
    await row(host, 'Ilaria').getByRole('button', { name: 'Remove' }).click();
    ok(/Ilaria/.test(asked) && await until(async () =>
      (await host.locator('#notice').textContent()) ===
        'That person is no longer in the room.'),
       'removing someone who has just left says "That person is no longer ' +
       'in the room." (no_such_participant)',
       'notice: ' + await host.locator('#notice').textContent());
    ok(await roomsState(host).then((s) => s.joined),
       'the host stays in the call');
    ok(await joinAs(it, 'Ilaria', { label: 'Il tuo nome', button: 'Entra' })
       === true, 'Ilaria, who only left, joins again');
  }

  /* ---- 50 people ------------------------------------------------------ */

  // The grid from 4 to 50 tiles: stand-in tiles (camera off, a name) join
  // the real ones; grid.js lays out whatever the stage holds.
  {
    await closePanel(host);
    await host.evaluate(() => {
      const tiles = document.getElementById('tiles');
      for (let i = tiles.children.length; i < 50; i++) {
        const f = document.createElement('figure');
        f.className = 'tile video-off stand-in';
        f.dataset.hue = String(i % 8);
        const av = document.createElement('div');
        av.className = 'avatar';
        const s = document.createElement('span');
        s.textContent = String.fromCharCode(65 + i % 26);
        av.append(s);
        const cap = document.createElement('figcaption');
        const n = document.createElement('span');
        n.className = 'name';
        n.textContent = 'Guest ' + (i + 1);
        cap.append(n);
        f.append(av, cap);
        tiles.append(f);
      }
    });
    await sleep(500);
    let st = await stageBox(host);
    const boxes = await tileBoxes(host);
    ok(boxes.length === 50 && !st.scroll && st.sh <= st.h + 1 &&
       boxes.every((b) => b.w >= 100),
       '50 tiles fit a 1280x800 screen without scrolling, each at least ' +
       '100 px wide', JSON.stringify(st) + ' smallest ' +
       Math.min(...boxes.map((b) => b.w)));
    await shot(host, '50-1280x800');
    await host.setViewportSize(PHONE);
    await sleep(500);
    st = await stageBox(host);
    ok(st.cols === 2 && st.scroll && await fitsWidth(host) &&
       await barAtBottom(host),
       '50 tiles on a phone: 2 columns, the stage scrolls, the controls stay',
       JSON.stringify(st));
    await shot(host, '50-360x640');
    await host.setViewportSize(DESKTOP);
    await host.evaluate(() => {
      for (const t of document.querySelectorAll('.stand-in')) t.remove();
    });
    await openPanel(host);
  }

  /* ---- End room ------------------------------------------------------- */

  {
    host.once('dialog', (d) => d.accept());
    await host.getByRole('button', { name: 'End room', exact: true }).click();
    ok(await until(async () => (await alertOf(ada)) ===
      'This room has ended.'), '"End room": a guest is told "This room ' +
       'has ended."', 'alert: ' + await alertOf(ada));
    ok(await until(async () => (await alertOf(pageOf('Ilaria'))) ===
      'La stanza è terminata.'),
       '... and in Italian "La stanza è terminata."');
    ok(await until(async () => (await apiRoom()).state === 'ended'),
       'the room is ended (API)');
    ok(await until(async () => !(await roomsState(host)).joined),
       'the host is out of the call too');
    await shot(host, 'ended-1280x800');
  }

  // A full room (docs/protocol.md: guests fill max_participants - 1)
  {
    const r2 = await (await fetch(ngx.base + 'api/rooms', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ max_participants: 2 }),
    })).json();
    const cleo = pageOf('Cleo');
    await cleo.goto(r2.invite_url);
    ok(await joinAs(cleo, 'Cleo') === true, 'Cleo joins a room for two');
    const dario = await open('Dario', r2.invite_url);
    const r = await joinAs(dario, 'Dario');
    ok(r === 'This room is full. Try again when someone leaves.',
       'the next guest is told the room is full (room_full)', 'got: ' + r);
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
