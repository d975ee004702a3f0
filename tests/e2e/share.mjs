// Screen sharing (docs/protocol.md, "Who you see and hear"): Marta hosts;
// Bruno and Carla are guests.  Three headless Chromiums through the real
// nginx and the real media worker; Chromium's fake screen capture (the
// flags every scenario runs with: --use-fake-ui-for-media-stream,
// --use-fake-device-for-media-stream) stands in for a screen.  Prints
// TAP; run it through share.t (a network namespace with only `lo`, a hard
// deadline).
//
//   - everyone sees a "Share screen" button; Bruno presses it: it says
//     "Stop sharing", and Marta and Carla each get his screen on an m-line
//     of its own, marked `screen` in their streams map, and decode it
//     (framesDecoded grows), shown first and large, while his camera goes
//     on decoding on his own, smaller tile;
//   - Carla presses "Share screen" too: the server refuses it
//     (share_taken), her page says so and her button is back to "Share
//     screen"; the others still have Bruno's screen only;
//   - Bruno presses "Stop sharing": the screen goes from both the others'
//     pages (no screen tile, no screen in the map);
//   - Carla shares; Marta, the host, presses "Stop their share" on
//     Carla's row: Carla's page says the host stopped it, her button is
//     "Share screen" again, and the screen goes from Marta and Bruno;
//   - a browser without getDisplayMedia shows no button;
//   - screenshots in build/e2e/.

import {
  ok, diag, sleep, until, openPerson, joinAs, roomsState, listRow,
  openPanel, scenarioRun, checkScreen, launchChromium, screenshot,
  startServers,
} from './lib.mjs';

const DEADLINE = 150000;      // the whole run; only a failing run reaches it

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const open = (name, url, opts) => openPerson(browser, people, name, url, opts);
const shot = (page, tag) => screenshot(page, 'share-' + tag, 500);

// In the page: each receiving video m-line bound to someone, with whose it
// is, whether the map marks it a screen, and the frames decoded on it.
const videos = (page) => page.evaluate(async () => {
  const pc = (window.__pcs || []).at(-1);
  const st = window.roomsState;
  if (!pc || !st || !st.joined) return [];
  const out = [];
  (await pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
    const b = st.streams[s.mid];
    if (!b) return;
    out.push({ who: st.participants[String(b.participant)],
               screen: Boolean(b.screen), frames: s.framesDecoded || 0,
               width: s.frameWidth || 0 });
  });
  return out;
});

const framesOf = async (page, who, screen) => {
  const v = (await videos(page)).filter((x) => x.who === who &&
                                                x.screen === screen);
  return v.length === 1 ? v[0].frames : -1;
};

// who's screen (screen) or camera decodes on page: frames grow over 1.5 s
async function decodes(page, who, screen) {
  const before = await framesOf(page, who, screen);
  if (before < 0) return false;
  await sleep(1500);
  const after = await framesOf(page, who, screen);
  return after > before ? { before, after } : false;
}

const shareButton = (page) => page.locator('#share');
const label = (page) => shareButton(page).locator('.label').textContent();
const screenTiles = (page) => page.locator('[data-screen]');
const tileOf = (page, name) => page.locator('[data-participant]').filter({
  has: page.locator('.name').getByText(name, { exact: true }),
});
const box = async (loc) => {
  const b = await loc.boundingBox();
  return b ? { x: Math.round(b.x), y: Math.round(b.y),
               w: Math.round(b.width), h: Math.round(b.height) } : null;
};
const noticeOf = (page) => page.evaluate(() => {
  const n = document.getElementById('notice');
  return n && !n.hidden ? n.textContent : '';
});
const screensInMap = (page) => page.evaluate(() =>
  Object.values(window.roomsState.streams).filter((s) => s.screen).length);

// who's screen on page: a tile of its own, first and large, decoding, with
// who's camera still decoding on their own smaller tile
async function seesScreen(page, viewer, who) {
  const r = await until(() => decodes(page, who, true), { timeout: 30000 });
  ok(r, viewer + ' decodes ' + who + "'s screen (framesDecoded grows on " +
     'the m-line the map marks screen)',
     JSON.stringify(await videos(page)) + '\nstreams: ' +
     JSON.stringify((await roomsState(page)).streams));
  if (r) diag(viewer + ': ' + who + "'s screen, frames " + r.before + ' -> ' +
              r.after);
  const cam = await until(() => decodes(page, who, false), { timeout: 20000 });
  ok(cam, viewer + ' still decodes ' + who + "'s camera",
     JSON.stringify(await videos(page)));
  const tiles = await screenTiles(page).count();
  const sb = await box(screenTiles(page).first());
  const cb = await box(tileOf(page, who));
  ok(tiles === 1 && sb && cb && sb.w * sb.h > 4 * cb.w * cb.h &&
     sb.y <= cb.y, viewer + ': the screen has one tile, large and first; ' +
     who + "'s camera tile is small beside it",
     JSON.stringify({ tiles, screen: sb, camera: cb }));
}

async function seesNoScreen(page, viewer, why) {
  const gone = await until(async () =>
    await screenTiles(page).count() === 0 && await screensInMap(page) === 0,
  { timeout: 15000 });
  ok(gone, viewer + ': ' + why + ', no screen tile, no screen in the map',
     JSON.stringify((await roomsState(page)).streams));
}

/* ------------------------------------------------------------------------ */

async function scenario() {
  const servers = await startServers(dir);
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module')) return;
  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Screens', activity: 'chat' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201 && room.host_url, 'the API creates a room',
          JSON.stringify(room))) {
    return;
  }

  browser = await launchChromium();

  const marta = await open('Marta', room.host_url);
  ok(await joinAs(marta, 'Marta') === true, 'Marta joins as the host');
  const bruno = await open('Bruno', room.invite_url);
  ok(await joinAs(bruno, 'Bruno') === true, 'Bruno joins');
  const carla = await open('Carla', room.invite_url);
  ok(await joinAs(carla, 'Carla') === true, 'Carla joins');

  for (const [name, page] of [['Marta', marta], ['Bruno', bruno],
                              ['Carla', carla]]) {
    const shown = await until(async () =>
      await shareButton(page).isVisible() &&
      !(await shareButton(page).isDisabled()), { timeout: 20000 });
    ok(shown && await label(page) === 'Share screen',
       name + ' sees a "Share screen" button', await label(page));
  }

  // everyone's cameras first: the call is up
  {
    const r = await until(async () =>
      await decodes(marta, 'Bruno', false) &&
      await decodes(carla, 'Bruno', false),
    { timeout: 40000 });
    ok(r, "Marta and Carla decode Bruno's camera",
       JSON.stringify(await videos(marta)));
  }

  /* ---- Bruno shares ---------------------------------------------------- */

  await shareButton(bruno).click();
  ok(await until(async () => await label(bruno) === 'Stop sharing' &&
     await shareButton(bruno).getAttribute('aria-pressed') === 'true'),
  'Bruno presses it: it says "Stop sharing", pressed');
  await seesScreen(marta, 'Marta', 'Bruno');
  await seesScreen(carla, 'Carla', 'Bruno');
  await shot(marta, 'marta-sees-bruno-1280x800');
  await checkScreen(marta, "Marta's call with a screen at 1280x800");

  /* ---- one at a time --------------------------------------------------- */

  await shareButton(carla).click();
  {
    const said = await until(async () => (await noticeOf(carla))
      .includes('Someone else is sharing a screen'), { timeout: 15000 });
    ok(said, 'Carla presses it too: her page says someone else is sharing',
       await noticeOf(carla));
    ok(await until(async () => await label(carla) === 'Share screen'),
       'and her button says "Share screen" again', await label(carla));
    await sleep(1500);
    const v = (await videos(marta)).filter((x) => x.screen);
    ok(v.length === 1 && v[0].who === 'Bruno' &&
       await screenTiles(marta).count() === 1,
    "Marta still has Bruno's screen, and only his", JSON.stringify(v));
  }

  /* ---- Bruno stops ----------------------------------------------------- */

  await shareButton(bruno).click();
  ok(await until(async () => await label(bruno) === 'Share screen'),
     'Bruno presses "Stop sharing": his button says "Share screen"');
  await seesNoScreen(marta, 'Marta', 'Bruno stopped sharing');
  await seesNoScreen(carla, 'Carla', 'Bruno stopped sharing');

  /* ---- Carla shares; the host stops it ------------------------------- */

  await shareButton(carla).click();
  ok(await until(async () => await label(carla) === 'Stop sharing'),
     'now Carla may share: her button says "Stop sharing"');
  await seesScreen(marta, 'Marta', 'Carla');
  {
    const r = await until(() => decodes(bruno, 'Carla', true),
                          { timeout: 30000 });
    ok(r, "Bruno decodes Carla's screen", JSON.stringify(await videos(bruno)));
  }

  await openPanel(marta);
  const stop = listRow(marta, '#people-list', 'Carla')
    .getByRole('button', { name: 'Stop their share', exact: true });
  ok(await until(() => stop.isVisible(), { timeout: 10000 }),
     'Marta, the host, sees "Stop their share" on Carla\'s row');
  ok(await listRow(marta, '#people-list', 'Bruno')
    .getByRole('button', { name: 'Stop their share' }).count() === 0,
  'and not on Bruno\'s (he shares nothing)');
  await shot(marta, 'marta-panel-1280x800');
  await stop.click();
  {
    const said = await until(async () => (await noticeOf(carla))
      .includes('The host stopped your screen share'), { timeout: 15000 });
    ok(said, "Marta presses it: Carla's page says the host stopped her share",
       await noticeOf(carla));
    ok(await until(async () => await label(carla) === 'Share screen'),
       'her button says "Share screen" again');
  }
  await seesNoScreen(marta, 'Marta', 'the host stopped Carla\'s share');
  await seesNoScreen(bruno, 'Bruno', 'the host stopped Carla\'s share');
  {
    const r = await until(() => decodes(marta, 'Carla', false),
                          { timeout: 20000 });
    ok(r, "Marta still decodes Carla's camera");
  }

  /* ---- no getDisplayMedia, no button --------------------------------- */

  {
    const dana = await open('Dana', room.invite_url, {
      viewport: { width: 360, height: 640 },
      init: [() => {
        if (navigator.mediaDevices) {
          delete MediaDevices.prototype.getDisplayMedia;
        }
      }],
    });
    ok(await joinAs(dana, 'Dana') === true, 'Dana joins from a browser ' +
       'without getDisplayMedia');
    await sleep(1000);
    ok(!(await shareButton(dana).isVisible()),
       'she sees no "Share screen" button');
    await checkScreen(dana, "Dana's call at 360x640");
  }

  for (const name of Object.keys(people)) {
    ok(people[name].errors.length === 0, name + "'s page threw no errors",
       people[name].errors.join('\n'));
  }
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
