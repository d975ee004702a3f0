// The tray (issue 13): Anna and Bruno meet in a call and leave.  Later
// Anna opens a room for her people ("friends") and joins it; Bruno's `/`,
// open all along, shows it in the tray within 2 s without reloading, and
// one click puts him in the call with her (both decode each other's
// video).  Carl, a third browser that never met Anna, sees nothing of it.
// Headless Chromiums through the real nginx (2 workers) and the real media
// worker.  Prints TAP; run it through tray.t (a network namespace with
// only `lo`, a hard deadline).
//
//   - the join form's "Remember me on this browser" is checked, and the
//     remembered browser keeps one guest token for every room;
//   - after the call, Bruno's `/` lists Anna among "Your people"; at the
//     end he forgets her there, and her room leaves his tray; his `/`
//     holds one live connection (the tray's WebSocket);
//   - the create page's "Who can find it" makes a friends room, and the
//     creation says who creates it (X-Rooms-Guest), never in a URL: no
//     guest token appears in nginx's access log;
//   - screenshots of `/` with the tray at 1280x800 and 360x640
//     (build/e2e/tray-*.png), checked for sideways scrolling and unnamed
//     controls; the tray in Italian.

import fs from 'node:fs';
import path from 'node:path';
import {
  ok, diag, until, openPerson, alertOf, joinAs, scenarioRun, receivedInPage,
  checkScreen, launchChromium, screenshot, startServers, watchConnections,
} from './lib.mjs';

const DEADLINE = 170000;      // the whole run; only a failing run reaches it
const PHONE = { width: 360, height: 640 };

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const open = (name, url, opts) => openPerson(browser, people, name, url, opts);
const button = (page, name) =>
  page.getByRole('button', { name, exact: true });
const received = (page) => page.evaluate(receivedInPage);
const cards = (page) => page.locator('#tray .tray-room');
const card = (page, title) => cards(page).filter({
  has: page.locator('.tray-title').getByText(title, { exact: true }),
});

// page decodes the video of each of others
async function sees(page, others) {
  const r = await received(page);
  return r && others.every((o) => r[o] && r[o].video.some((v) => v > 0))
    ? r : false;
}

// Creates a room from the create page of page; {invite, host} links
async function createRoom(page, title, audience) {
  await page.getByLabel('Title', { exact: true }).fill(title);
  if (audience) {
    await page.getByLabel('Who can find it', { exact: true })
      .selectOption({ label: audience });
  }
  await button(page, 'Create room').click();
  const host = await until(async () => {
    const v = await page.locator('#host').inputValue();
    return v.includes('#host=') ? v : false;
  });
  return { host, invite: await page.locator('#invite').inputValue() };
}

/* ------------------------------------------------------------------------ */

async function scenario() {
  const servers = await startServers(dir);
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module: 2 workers')) return;

  browser = await launchChromium();

  /* ---- Anna and Bruno meet, and leave --------------------------------- */

  const anna = await open('Anna', ngx.base);
  const meeting = await createRoom(anna, 'Catch-up');
  ok(meeting.host, 'Anna creates a room (the link only)');
  await anna.goto(meeting.host);
  ok(await anna.getByLabel('Remember me on this browser').isChecked(),
     '"Remember me on this browser" is checked');
  const annaIn = await until(async () => (await joinAs(anna, 'Anna')) === true,
                             { timeout: 40000, every: 500 });
  if (!ok(annaIn, 'Anna joins', 'alert: ' + await alertOf(anna))) return;

  const bruno = await open('Bruno', meeting.invite);
  const brunoConns = watchConnections(bruno);
  ok(await joinAs(bruno, 'Bruno') === true, 'Bruno joins');
  ok(await until(() => sees(anna, ['Bruno']), { timeout: 40000 }) &&
     await until(() => sees(bruno, ['Anna']), { timeout: 40000 }),
     'in the call, each decodes the other\'s video');
  for (const p of [anna, bruno]) await button(p, 'Leave').click();

  const token = (page) => page.evaluate(() => localStorage.getItem('rooms.me'));
  const tA = await token(anna);
  const tB = await token(bruno);
  ok(/^[A-Za-z0-9_-]{22}$/.test(tA || '') && /^[A-Za-z0-9_-]{22}$/.test(tB || ''),
     'each remembered browser keeps one guest token for every room');

  /* ---- later: Bruno's `/` and Carl's, open all along ------------------ */

  await bruno.goto(ngx.base);
  const tray = bruno.locator('#tray');
  ok(await until(() => tray.isVisible()), "Bruno's `/` has the tray");
  ok(await until(async () =>
    (await bruno.locator('#tray .tray-empty').textContent()) ===
      'None of your people is in a room right now.'),
     'with nothing open: "None of your people is in a room right now."');
  await bruno.locator('.tray-people summary').click();
  ok(await until(async () =>
    (await bruno.locator('.tray-people li span').allTextContents())
      .includes('Anna')),
     '"Your people" lists Anna');
  await bruno.evaluate(() => { window.__notReloaded = true; });

  const carl = await open('Carl', ngx.base);
  ok(await until(() => carl.locator('#tray').isVisible()),
     "Carl's `/` has the tray too");

  /* ---- Anna opens a room for her people, and joins it ----------------- */

  await anna.goto(ngx.base);
  const friends = await createRoom(anna, 'Pizza and a film',
                                   'My people, at the top of their page');
  ok(friends.host, 'Anna creates a room for "My people"');
  await anna.goto(friends.host);
  const joined = await until(async () => (await joinAs(anna, 'Anna')) === true,
                             { timeout: 40000, every: 500 });
  const t0 = Date.now();
  if (!ok(joined, 'Anna joins it', 'alert: ' + await alertOf(anna))) return;

  const shown = await until(async () =>
    (await card(bruno, 'Pizza and a film').count()) === 1,
  { timeout: 10000, every: 50 });
  const after = Date.now() - t0;
  ok(shown, "Bruno's tray shows Anna's room");
  ok(shown && after <= 2000, 'within 2 s of her join',
     'it took ' + after + ' ms');
  diag("Bruno's tray showed the room " + after + ' ms after Anna was in');
  ok(await bruno.evaluate(() => window.__notReloaded === true),
     'without reloading the page');
  ok(brunoConns.live().join() === 'websocket /api/tray/ws',
     'his `/` holds one live connection: the tray\'s WebSocket',
     brunoConns.live().join(', '));
  const c = card(bruno, 'Pizza and a film');
  ok((await c.locator('.tray-who').textContent()) === 'Anna' &&
     (await c.locator('.tray-meta').textContent()) === '1 person in the room',
     'the card: Anna in it, "1 person in the room"');

  // Carl never met Anna: nothing of it, ever
  ok(!(await carl.locator('body').textContent()).includes('Pizza'),
     'Carl, who never met Anna, sees nothing of it');
  ok(await carl.locator('#tray .tray-empty').isVisible(),
     "Carl's tray is empty");

  /* ---- screenshots: `/` with the tray --------------------------------- */

  await screenshot(bruno, 'tray-1280x800');
  await checkScreen(bruno, '`/` with the tray at 1280x800');
  const phone = await bruno.context().newPage();
  await phone.setViewportSize(PHONE);
  await phone.goto(ngx.base);
  ok(await until(async () =>
    (await card(phone, 'Pizza and a film').count()) === 1),
     'at 360x640 the tray shows the room too');
  await screenshot(phone, 'tray-360x640');
  await checkScreen(phone, '`/` with the tray at 360x640');
  await phone.selectOption('#lang', 'it');
  ok(await until(async () =>
    (await phone.locator('#tray-h').textContent()) === 'Stanze aperte per te' &&
    (await card(phone, 'Pizza and a film').locator('.tray-go').textContent())
      === 'Entra'),
     'in Italian: "Stanze aperte per te", "Entra"');
  await screenshot(phone, 'tray-360x640-it');
  await phone.selectOption('#lang', 'en');
  await phone.close();

  /* ---- one click: Bruno drops in ------------------------------------- */

  await card(bruno, 'Pizza and a film').locator('a').click();
  const inCall = await until(() => bruno.evaluate(() =>
    window.roomsState && window.roomsState.joined), { timeout: 30000 });
  ok(inCall, 'one click on the card puts Bruno in the call',
     'alert: ' + await alertOf(bruno));
  ok(await until(() => sees(bruno, ['Anna']), { timeout: 40000 }),
     'Bruno decodes Anna\'s video',
     JSON.stringify(await received(bruno).catch(() => null)));
  ok(await until(() => sees(anna, ['Bruno']), { timeout: 40000 }),
     'Anna decodes Bruno\'s video',
     JSON.stringify(await received(anna).catch(() => null)));

  ok(!(await carl.locator('body').textContent()).includes('Pizza'),
     'Carl still sees nothing of it');

  /* ---- Forget, from the page ------------------------------------------ */

  await button(bruno, 'Leave').click();
  await bruno.goto(ngx.base);
  ok(await until(async () =>
    (await card(bruno, 'Pizza and a film').count()) === 1),
     "back on `/`, Bruno's tray still shows Anna's room");
  await bruno.locator('.tray-people summary').click();
  const forget = bruno.locator('.tray-people li')
    .filter({ hasText: 'Anna' }).getByRole('button', { name: 'Forget' });
  await forget.click();
  ok(await until(async () =>
    (await card(bruno, 'Pizza and a film').count()) === 0 &&
    !(await bruno.locator('.tray-people').isVisible())),
     'Forget Anna: her room leaves the tray, and Bruno has no people');

  /* ---- no token in a logged URL --------------------------------------- */

  const log = fs.readFileSync(path.join(dir, 'logs/access.log'), 'utf8');
  ok(log.length > 0 && !log.includes(tA) && !log.includes(tB),
     'no guest token in the access log');

  for (const [name, p] of Object.entries(people)) {
    ok(p.errors.length === 0, name + "'s pages threw no errors",
       p.errors.join('\n'));
  }
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran', e.stack);
  finish();
});
