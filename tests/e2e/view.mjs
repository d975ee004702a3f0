// Who you see and hear (docs/protocol.md): a room served with
// `rooms_video_slots 1;`, so each browser receives one remote video at a
// time, and every remote audio.  Anna watches; Bruno, Carla and Dario are
// in the call with her.  Four headless Chromiums through the real nginx
// (2 workers) and the real media worker.  Prints TAP; run it through
// view.t (a network namespace with only `lo`, a hard deadline).
//
//   - Anna hears all three (audio samples from Bruno, Carla and Dario);
//   - she decodes video from exactly one of them, the one her view (the
//     message her page sent) puts first; the other two tiles show their
//     initial and name, not a black or frozen picture;
//   - she pins one of the others, then another ("Pin Carla", a button on
//     the tile; never the one she sees already): her view puts that
//     person first, the server moves her one video slot to them and says
//     so with a `streams` message (no new offer), and that person's video
//     decodes;
//   - her offers fit the 65536-byte message limit, and so does an offer
//     of the client's own pruning with 49 audio and 16 video m-lines;
//   - screenshots at 1280x800 and 360x640 in build/e2e/.

import {
  ok, diag, sleep, until, openPerson, joinAs, roomsState, receivedInPage,
  captureSignaling, scenarioRun, checkScreen, launchChromium, screenshot,
  startServers,
} from './lib.mjs';

const DEADLINE = 150000;      // the whole run; only a failing run reaches it
const OTHERS = ['Bruno', 'Carla', 'Dario'];
const LIMIT = 65536;          // bytes: the largest signaling message

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const shot = (page, tag) => screenshot(page, 'view-' + tag, 500);

const open = (name, url, opts) => openPerson(browser, people, name, url, opts);
const received = (page) => page.evaluate(receivedInPage);
const signals = (page) => page.evaluate(() => window.__signals);
const tileOf = (page, name) => page.locator('[data-participant]').filter({
  has: page.locator('.name').getByText(name, { exact: true }),
});

// Whose video Anna's page has an m-line for now: the names in the last
// streams map (answer or streams message) bound to a video m-line.
const videoBound = (page) => page.evaluate(() => {
  const st = window.roomsState;
  return Object.values(st.streams).filter((s) => s.kind === 'video')
    .map((s) => st.participants[String(s.participant)]);
});

// The frames Anna decoded of that person's video (the largest counter of
// the video m-lines bound to them), or -1 if none is.
async function frames(page, name) {
  const r = await received(page);
  return r && r[name] && r[name].video.length
    ? Math.max(...r[name].video) : -1;
}

// Anna's tile of that person shows the initial (the avatar), not video.
const showsAvatar = (page, name) => tileOf(page, name).evaluate((t) =>
  getComputedStyle(t.querySelector('.avatar')).display !== 'none' &&
  getComputedStyle(t.querySelector('video')).visibility === 'hidden');

// At one instant in the page: whose video Anna's m-lines carry (the
// streams map) and, for each of `names`, whether their tile shows the
// initial.  One look: her view follows the speaker until she pins
// someone, so between two looks the slot may move (every fake microphone
// beeps, and the dominant speaker changes with the beeps).
const slotAndAvatars = (page, names) => page.evaluate((names) => {
  const st = window.roomsState;
  const slot = Object.values(st.streams).filter((s) => s.kind === 'video')
    .map((s) => st.participants[String(s.participant)]);
  const avatars = {};
  for (const t of document.querySelectorAll('[data-participant]')) {
    const name = st.participants[t.dataset.participant];
    if (!names.includes(name)) continue;
    avatars[name] =
      getComputedStyle(t.querySelector('.avatar')).display !== 'none' &&
      getComputedStyle(t.querySelector('video')).visibility === 'hidden';
  }
  return { slot, avatars };
}, names);

// The video slot is on `name`, Anna's last view puts them first, and
// their video decodes: more frames a second later than before.
async function seesOnly(page, name) {
  const ids = await page.evaluate(() => window.roomsState.people);
  const idOf = (n) => Object.values(ids).find((p) => p.name === n)?.id;
  const view = await page.evaluate(() => window.roomsState.view);
  const bound = await videoBound(page);
  if (!view || String(view[0]) !== String(idOf(name))) return false;
  if (bound.length !== 1 || bound[0] !== name) return false;
  const before = await frames(page, name);
  await sleep(1000);
  const after = await frames(page, name);
  return before >= 0 && after > before + 5 ? { before, after } : false;
}

/* ------------------------------------------------------------------------ */

async function scenario() {
  const servers = await startServers(dir,
    { directives: ['rooms_video_slots 1;'] });
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module and rooms_video_slots 1')) {
    return;
  }
  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Who you see', activity: 'friends' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201 && room.invite_url, 'the API creates a room',
          JSON.stringify(room))) {
    return;
  }

  browser = await launchChromium();

  const anna = await open('Anna', room.invite_url,
                          { init: [captureSignaling] });
  ok(await joinAs(anna, 'Anna') === true, 'Anna joins');
  for (const name of OTHERS) {
    const page = await open(name, room.invite_url);
    const r = await joinAs(page, name);
    ok(r === true, name + ' joins', 'got: ' + r);
  }

  /* ---- Anna hears everyone ------------------------------------------- */

  {
    const r = await until(async () => {
      const got = await received(anna);
      return got && OTHERS.every((n) => got[n] &&
        got[n].audio.some((v) => v > 0)) ? got : false;
    }, { timeout: 40000 });
    ok(r, 'Anna hears Bruno, Carla and Dario (totalSamplesReceived > 0 ' +
       'from each)', 'stats: ' + JSON.stringify(await received(anna)) +
       '\nstreams: ' + JSON.stringify((await roomsState(anna)).streams));
  }

  /* ---- one video at a time: the first of her view ---------------------- */

  {
    const r = await until(async () => {
      const view = (await roomsState(anna)).view;
      const st = await roomsState(anna);
      const first = view && st.people[String(view[0])];
      return first ? seesOnly(anna, first.name).then((x) =>
        x && { name: first.name, ...x }) : false;
    }, { timeout: 40000, every: 500 });
    ok(r, "Anna decodes video from exactly one of them, the one her view " +
       'puts first', 'view: ' + JSON.stringify((await roomsState(anna)).view) +
       '\nbound: ' + JSON.stringify(await videoBound(anna)) +
       '\nstats: ' + JSON.stringify(await received(anna)));
    if (r) {
      diag('video slot on ' + r.name + ': frames ' + r.before + ' -> ' +
           r.after);
      // those the slot is not on, as the page has it at that instant:
      // on r.name unless the speaker changed since (then on another)
      const { slot, avatars } = await slotAndAvatars(anna, OTHERS);
      const rest = OTHERS.filter((n) => !slot.includes(n));
      ok(slot.length === 1 && rest.length === 2 &&
         rest.every((n) => avatars[n] === true),
         'the tiles of the two without the video slot (' + rest.join(' and ') +
         ') show their initial and name',
         JSON.stringify({ slot, avatars }));
    }
  }

  /* ---- pinning: her view changes, the slot follows ------------------- */

  // each time someone whose video she does not get yet (her view may
  // already put the speaker first)
  let last = null;
  for (let round = 0; round < 2; round++) {
    const st = await roomsState(anna);
    const first = st.view && st.people[String(st.view[0])];
    const name = OTHERS.find((n) => n !== last && (!first || n !== first.name));
    last = name;
    const offers = (await roomsState(anna)).offers;
    // what came before the press (by count: the page's clock is its own)
    const since = (await signals(anna)).length;
    const pin = anna.getByRole('button', { name: 'Pin ' + name, exact: true });
    await pin.click();
    ok(await pin.getAttribute('aria-pressed') === 'true',
       'Anna presses "Pin ' + name + '" and it shows as pressed');
    const id = await tileOf(anna, name).getAttribute('data-participant');
    const sent = await until(async () => (await signals(anna)).slice(since)
      .find((s) => s.dir === 'out' && s.type === 'view' &&
                   String(s.msg.ids[0]) === id));
    ok(sent, "Anna's page sends a view with " + name + ' first',
       JSON.stringify((await signals(anna)).filter((s) => s.type === 'view')
         .slice(-3)));
    const moved = await until(async () => (await signals(anna)).slice(since)
      .find((s) => s.dir === 'in' && s.type === 'streams' &&
                   Object.values(s.msg.streams).some((b) =>
                     b.kind === 'video' && String(b.participant) === id)));
    ok(moved, 'Anna receives a streams message that moves her video slot to ' +
       name, JSON.stringify((await signals(anna)).filter((s) =>
         s.dir === 'in' && s.type === 'streams').slice(-3)));
    const r = await until(() => seesOnly(anna, name), { timeout: 20000 });
    ok(r, "Anna decodes " + name + "'s video, and only " + name + "'s",
       'bound: ' + JSON.stringify(await videoBound(anna)) +
       '\nstats: ' + JSON.stringify(await received(anna)));
    if (r) diag(name + ': frames ' + r.before + ' -> ' + r.after);
    ok((await roomsState(anna)).offers === offers,
       'no new offer was needed for it');
    const rest = OTHERS.filter((n) => n !== name);
    const avatars = await until(async () => {
      const a = await Promise.all(rest.map((n) => showsAvatar(anna, n)));
      return a.every(Boolean);
    }, { timeout: 5000 });
    ok(avatars, 'the tiles of ' + rest.join(' and ') +
       ' show their initial and name');
    if (round === 0) await shot(anna, 'anna-pinned-1280x800');
  }

  /* ---- offer sizes ----------------------------------------------------- */

  {
    const offers = (await signals(anna)).filter((s) =>
      s.dir === 'out' && s.type === 'offer');
    ok(offers.length > 0 && offers.every((s) => s.size < LIMIT),
       "Anna's offers are under " + LIMIT + ' bytes',
       'sizes: ' + offers.map((s) => s.size).join(' '));
    diag("Anna's offers, bytes: " + offers.map((s) => s.size).join(' '));

    // the client's own pruning (devices.js), on the largest offer a
    // 50-person room asks for: 49 audio and 16 video recvonly m-lines
    const sizes = await anna.evaluate(async () => {
      const { pruneRecv } = await import(
        new URL('../assets/devices.js', location.href).href);
      const build = async (prune) => {
        const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
        pc.addTransceiver('audio', { direction: 'sendonly' });
        pc.addTransceiver('video', { direction: 'sendonly' });
        for (let i = 0; i < 49; i++) {
          pc.addTransceiver('audio', { direction: 'recvonly' });
        }
        for (let i = 0; i < 16; i++) {
          pc.addTransceiver('video', { direction: 'recvonly' });
        }
        if (prune) for (const tr of pc.getTransceivers()) pruneRecv(tr);
        const o = await pc.createOffer();
        pc.close();
        // not the call's: receivedInPage() reads the last one captured
        window.__pcs.splice(window.__pcs.indexOf(pc), 1);
        const msg = JSON.stringify({ type: 'offer', sdp: o.sdp });
        return new TextEncoder().encode(msg).length;
      };
      return { full: await build(false), pruned: await build(true) };
    });
    diag('a 49 audio + 16 video offer: ' + sizes.full + ' bytes, ' +
         sizes.pruned + ' pruned');
    ok(sizes.pruned < LIMIT && sizes.pruned < sizes.full,
       'an offer with 49 audio and 16 video m-lines, pruned by the client, ' +
       'is under ' + LIMIT + ' bytes', JSON.stringify(sizes));
  }

  /* ---- screens --------------------------------------------------------- */

  await shot(anna, 'anna-1280x800');
  await checkScreen(anna, "Anna's call at 1280x800");
  await anna.setViewportSize({ width: 360, height: 640 });
  await shot(anna, 'anna-360x640');
  await checkScreen(anna, "Anna's call at 360x640");
  {
    // the slot stays with the pinned person on the phone too
    const r = await until(() => seesOnly(anna, last), { timeout: 15000 });
    ok(r, 'on a phone screen Anna still decodes the pinned ' + last +
       "'s video",
       'view: ' + JSON.stringify((await roomsState(anna)).view) +
       '\nbound: ' + JSON.stringify(await videoBound(anna)) +
       '\nstats: ' + JSON.stringify(await received(anna)) +
       '\nsignals: ' + JSON.stringify((await signals(anna)).filter((x) =>
         x.type !== 'offer' && x.type !== 'answer').slice(-6)));
  }

  for (const name of ['Anna', ...OTHERS]) {
    ok(people[name].errors.length === 0, name + "'s page threw no errors",
       people[name].errors.join('\n'));
  }
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
