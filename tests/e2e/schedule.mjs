// A scheduled room (README "Scheduled rooms"): a host (Hana) and a guest
// (Rita) in headless Chromiums, through the real nginx (2 workers, with
// rooms_reminder 15s) and the real media worker.  Prints TAP; run it
// through schedule.t (a network namespace with only `lo`, a hard
// deadline).
//
//   - a room is scheduled ~30 s ahead; before it opens, its page shows
//     when, a countdown that goes down, "Remind me", "Add to calendar"
//     (r/<code>/event.ics, a real calendar file) and the calendar feed;
//     at 360x640 nothing scrolls sideways and every control is named;
//   - Rita (a phone, notifications allowed) presses "Remind me" and Join:
//     the page says it will join by itself; her second page (the create
//     page, same browser) opens too;
//   - the host's page counts 1 person who asked;
//   - the reminder comes before the start, as a notice on both of Rita's
//     pages (once on each) and as a desktop notification (tag
//     rooms-<code>); her `/` page holds one live connection, the tray's
//     WebSocket, which brings it (no notice stream);
//   - at the start, both pages join by themselves (no reload), and Rita
//     decodes Hana's video;
//   - Italian: "Ricordamelo", "Inizia tra" for an it-IT visitor;
//   - no page threw an error or broke a CSP rule; screenshots in
//     build/e2e/.

import {
  ok, diag, sleep, until, openPerson, receivedInPage, scenarioRun,
  roomsState, checkScreen, launchChromium, screenshot, startServers,
  watchConnections,
} from './lib.mjs';

const DEADLINE = 150000;      // the whole run; only a failing run reaches it
const LEAD = 15;              // rooms_reminder, s
const AHEAD = 32;             // the start, from the room's creation, s
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 640 };

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const shot = (page, tag) => screenshot(page, 'schedule-' + tag);

// every desktop notification the page makes, kept for the test
function recordNotifications() {
  window.__notes = [];
  const Native = window.Notification;
  if (!Native) return;
  class Recorded extends Native {
    constructor(title, opts) {
      super(title, opts);
      window.__notes.push({ title, body: opts && opts.body,
                            tag: opts && opts.tag });
    }
  }
  window.Notification = Recorded;
}

const open = (name, url, opts = {}) => openPerson(browser, people, name, url,
  Object.assign({ init: [recordNotifications] }, opts));

const countdown = (page) => page.locator('#schedule .countdown').textContent();
const seconds = (text) => {
  const m = /(\d+):(\d\d)$/.exec(text || '');
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
};

async function sees(page, other) {
  const r = await page.evaluate(receivedInPage);
  return r && r[other] && r[other].video.some((v) => v > 0) ? r : false;
}

async function scenario() {
  const servers = await startServers(dir, {
    http: ['rooms_reminder ' + LEAD + 's;'],
  });
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with rooms_reminder ' + LEAD + 's')) return;

  browser = await launchChromium();

  const start = new Date(Date.now() + AHEAD * 1000);
  start.setUTCMilliseconds(0);
  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Book club', start_at: start.toISOString() }),
  });
  const room = await res.json();
  if (!ok(res.status === 201 && room.state === 'scheduled',
          'a room scheduled ' + AHEAD + ' s ahead', JSON.stringify(room))) {
    return;
  }
  const opensAt = start.getTime();

  /* ---- Rita, on a phone: the card, Remind me, Join -------------------- */

  const rita = await open('Rita', room.invite_url, { viewport: PHONE });
  // (Chromium's grant refuses every permission it does not name)
  await people.Rita.context.grantPermissions(
    ['notifications', 'camera', 'microphone']);
  const c1 = seconds(await countdown(rita));
  await sleep(2100);
  const c2 = seconds(await countdown(rita));
  ok(c1 > 0 && c2 < c1 && c2 <= AHEAD,
     'before it opens, the page counts down to the start',
     'countdown: ' + c1 + ' then ' + c2);
  const opens = await rita.locator('#schedule .opens').textContent();
  const local = await rita.evaluate((iso) => new Date(iso).toLocaleString(),
                                    start.toISOString());
  ok(opens === 'Opens ' + local, 'it says when the room opens',
     'got: ' + opens + ', expected: Opens ' + local);
  await checkScreen(rita, 'the waiting page at 360x640');
  await shot(rita, 'waiting-360x640');

  const href = await rita.getByRole('link', { name: 'Add to calendar' })
    .getAttribute('href');
  const ics = await (await fetch(new URL(href, room.invite_url))).text();
  ok(/^BEGIN:VCALENDAR\r\n/.test(ics) && ics.includes('SUMMARY:Book club') &&
     ics.includes('TRIGGER:-PT' + LEAD + 'S'),
     '"Add to calendar" links to the room\'s calendar file', ics);

  await rita.getByRole('button', { name: 'Remind me', exact: true }).click();
  ok(await until(async () => await rita.getByRole('button',
    { name: 'Cancel the reminder', exact: true }).isVisible()),
     '"Remind me": the button becomes "Cancel the reminder"');
  await rita.getByLabel('Your name', { exact: true }).fill('Rita');
  await rita.getByRole('button', { name: 'Join', exact: true }).click();
  ok(await until(async () => (await rita.locator('#status')
    .textContent()) === 'You will join by yourself when the room opens.'),
     'Join before the start: the page says it will join by itself');

  // her other page, in the same browser
  const home = await people.Rita.context.newPage();
  home.on('pageerror', (e) => people.Rita.errors.push(String(e)));
  await home.addInitScript(recordNotifications);
  const homeConns = watchConnections(home);
  await home.goto(ngx.base);

  /* ---- the host sees who asked, and presses Join too ------------------ */

  const hana = await open('Hana', room.host_url, { viewport: DESKTOP });
  ok(await until(async () => (await hana.locator('#remind-count')
    .textContent()) === 'People who asked to be reminded: 1'),
     'the host sees that 1 person asked to be reminded',
     await hana.locator('#remind-count').textContent());
  await hana.getByLabel('Your name', { exact: true }).fill('Hana');
  await hana.getByRole('button', { name: 'Join', exact: true }).click();
  await shot(hana, 'host-1280x800');

  /* ---- Italian ----------------------------------------------------------- */

  const ivo = await open('Ivo', room.invite_url,
                         { viewport: PHONE, locale: 'it-IT' });
  ok(await until(async () => await ivo.getByRole('button',
    { name: 'Ricordamelo', exact: true }).isVisible() &&
    /^Inizia tra \d+:\d\d$/.test(await countdown(ivo))),
     'in Italian: "Ricordamelo" and "Inizia tra"',
     await countdown(ivo));
  await shot(ivo, 'waiting-it-360x640');
  await people.Ivo.context.close();

  /* ---- the reminder, before the start ---------------------------------- */

  const told = (page) => page.evaluate(() =>
    window.roomsSchedule.notices.map((n) => n.code));
  ok(await until(async () => (await told(rita)).includes(room.code) &&
                               (await told(home)).includes(room.code),
                 { timeout: (AHEAD + 5) * 1000 }),
     'the reminder comes to both of Rita\'s pages');
  ok(Date.now() < opensAt, 'before the start (' +
     Math.round((opensAt - Date.now()) / 1000) + ' s before)');
  const notice = await rita.locator('.reminder-item').first().textContent();
  ok(notice.startsWith('“Book club” is about to start'),
     'a notice on the page says so', notice);
  ok(await home.locator('.reminder-item').first().isVisible(),
     'and on her other page');
  ok(await home.locator('.reminder-item').count() === 1,
     'once on each page', await home.locator('.reminder-item').count());
  // `/` brings it on its tray's socket: one connection, no notice stream
  ok(homeConns.opened().join() === 'websocket /api/tray/ws' &&
     homeConns.live().join() === 'websocket /api/tray/ws',
     'her `/` page holds one live connection (the tray\'s WebSocket)',
     'opened: ' + homeConns.opened().join(', ') + '; live: ' +
     homeConns.live().join(', '));
  const homeNotes = await home.evaluate(() => window.__notes || []);
  ok(homeNotes.some((n) => n.tag === 'rooms-' + room.code),
     'her `/` page shows the desktop notification too',
     JSON.stringify(homeNotes));
  const notes = await rita.evaluate(() => window.__notes);
  ok(notes.some((n) => n.tag === 'rooms-' + room.code &&
                       n.title === 'A room is about to start'),
     'and a desktop notification (she allowed them)', JSON.stringify(notes));
  await shot(rita, 'reminded-360x640');
  ok((await roomsState(rita)).joined === false, 'nobody is in yet');

  /* ---- the start: both join by themselves ------------------------------ */

  ok(await until(async () => (await roomsState(rita)).joined &&
                              (await roomsState(hana)).joined,
                 { timeout: (AHEAD + 15) * 1000 }),
     'at the start, both pages join by themselves (no reload)');
  ok(Date.now() >= opensAt - 1000, 'not before the start');
  let r;
  ok(await until(async () => (r = await sees(rita, 'Hana')),
                 { timeout: 20000 }),
     'Rita decodes Hana\'s video', JSON.stringify(r));
  await shot(rita, 'in-call-360x640');

  for (const [name, p] of Object.entries(people)) {
    ok(p.errors.length === 0, name + "'s page threw no errors",
       p.errors.join('\n'));
    const csp = p.console.filter((l) => /Content Security Policy|Refused to/
      .test(l));
    ok(csp.length === 0, name + "'s page broke no CSP rule", csp.join('\n'));
  }
  diag('done');
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
