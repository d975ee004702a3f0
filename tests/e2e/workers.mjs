// A media worker per core (issue 17, docs/architecture.md "A media worker
// per core"): rooms-worker --workers 2 behind the real nginx (2 workers),
// two rooms, each on its own media worker (rooms_shard_pick(), computed
// here from the store's ids as common/rooms_shard.c does), two headless
// Chromium pages in each.  Media worker 0 is killed (SIGKILL) in the
// call.  What a user would notice: in the other room nothing happens
// (video keeps being decoded, nobody is told to join again); in the
// killed one's room the pages are told (1012), join again by themselves
// once the supervisor has started it again, and see and hear each other
// again.  Prints TAP; run it through workers.t.

import fs from 'node:fs';
import path from 'node:path';
import {
  ok, diag, sleep, until, nginxWorkers, receivedInPage, scenarioRun,
  launchChromium, openPerson, joinAs, startWorker, startNginx, freeUdpPort,
  freeTcpPort, captureSignaling, storeQuery,
} from './lib.mjs';

const DEADLINE = 170000;      // the whole run; only a failing run reaches it
const ROOMS = { A: ['Ann', 'Abe'], B: ['Bea', 'Ben'] };
const NAMES = [...ROOMS.A, ...ROOMS.B];
const AFTER_KILL_MS = 6000;   // how long the other room is watched

// small windows: every tile asks for the smallest simulcast layer
const VIEWPORT = { width: 480, height: 360 };

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

// rooms_shard_pick() of common/rooms_shard.c, on 64-bit BigInts
const M64 = (1n << 64n) - 1n;
function mix(x) {
  x = (x + 0x9e3779b97f4a7c15n) & M64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M64;
  return x ^ (x >> 31n);
}
function pick(room, n) {
  const r = mix(BigInt.asUintN(64, BigInt(room)));
  let best = 0;
  let top = 0n;
  for (let i = 0; i < n; i++) {
    const w = mix(r ^ mix(BigInt(i + 1)));
    if (i === 0 || w > top) {
      top = w;
      best = i;
    }
  }
  return best;
}

// In the page: the close codes of its signaling WebSockets.
function captureCloses() {
  const Native = window.WebSocket;
  window.__closes = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('close', (ev) => window.__closes.push(ev.code));
    }
  };
}

const closes = (name) => people[name].page.evaluate(() => window.__closes);
const welcomes = (name) => people[name].page.evaluate(
  () => window.__signals.filter((s) => s.dir === 'in' && s.type === 'welcome')
    .length);

// framesDecoded of each remote video the page receives now, by name
async function frames(name) {
  const r = await people[name].page.evaluate(receivedInPage);
  const out = {};
  for (const [o, v] of Object.entries(r || {})) {
    out[o] = v.video.reduce((a, b) => a + b, 0);
  }
  return out;
}

async function hearsAndSees(name, others) {
  const r = await people[name].page.evaluate(receivedInPage);
  return r && others.every((o) => r[o] &&
    r[o].video.some((v) => v > 0) && r[o].audio.some((v) => v > 0)) ? r : false;
}

// The pid of media worker i, from the supervisor's latest line about it.
function childPid(i) {
  const log = fs.readFileSync(path.join(dir, 'logs/worker.log'), 'utf8');
  const all = [...log.matchAll(new RegExp(`media worker ${i} of 2: pid (\\d+)`,
                                          'g'))];
  return all.length ? Number(all.at(-1)[1]) : 0;
}

/* ------------------------------------------------------------------------ */

async function scenario() {
  ok(pick(1, 2) === 0 && pick(2, 2) === 1 && pick(7, 2) === 0,
     'rooms_shard_pick() computed here as test_shard fixes it');

  const udp = await freeUdpPort();
  const worker = await startWorker(dir, udp, { workers: 2 });
  if (!ok(worker && fs.existsSync(path.join(dir, 'worker.sock.1')),
          'rooms-worker --workers 2: two media workers, two sockets')) {
    return;
  }
  const ngx = await startNginx(dir, await freeTcpPort());
  if (!ok(ngx, 'nginx starts with the module: 2 workers, reuseport')) return;

  // a room on each media worker
  const on = {};
  for (let i = 0; i < 8 && !(on[0] && on[1]); i++) {
    const res = await fetch(ngx.base + 'api/rooms', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Room ' + i }),
    });
    const room = await res.json();
    const id = storeQuery(dir,
      `SELECT id FROM rooms WHERE code = '${room.code}'`);
    room.worker = pick(Number(id), 2);
    on[room.worker] = on[room.worker] || room;
  }
  if (!ok(on[0] && on[1], 'a room on each media worker')) return;
  const rooms = { A: on[0], B: on[1] };

  browser = await launchChromium();
  for (const [r, names] of Object.entries(ROOMS)) {
    for (const name of names) {
      await openPerson(browser, people, name,
                       name === names[0] ? rooms[r].host_url
                                         : rooms[r].invite_url,
                       { init: [captureSignaling, captureCloses],
                         viewport: VIEWPORT });
      const j = await until(async () => (await joinAs(people[name].page, name,
                                                      { timeout: 10000 }))
                                        === true,
                            { timeout: 40000, every: 500 });
      if (!ok(j, name + ' joins room ' + r)) return;
    }
  }
  for (const names of Object.values(ROOMS)) {
    for (const name of names) {
      const others = names.filter((n) => n !== name);
      const r = await until(() => hearsAndSees(name, others),
                            { timeout: 40000 });
      if (!ok(r, name + ' sees and hears ' + others.join(' and '))) return;
    }
  }
  diag('WebSockets held by nginx workers ' +
       Object.values(nginxWorkers(ngx.port)).join(' '));

  // ---- media worker 0 (room A's) is killed in the call ----
  const victim = childPid(0);
  if (!ok(victim > 0, 'media worker 0 runs (pid ' + victim + ')')) return;
  const before = {};
  for (const name of ROOMS.B) before[name] = await frames(name);
  process.kill(victim, 'SIGKILL');
  const t0 = Date.now();

  // room B: nothing happens
  await sleep(AFTER_KILL_MS);
  for (const name of ROOMS.B) {
    const other = ROOMS.B.find((n) => n !== name);
    const now = await frames(name);
    diag(name + ': ' + other + "'s frames decoded " + before[name][other] +
         ' -> ' + now[other] + ' over ' + AFTER_KILL_MS + ' ms after the kill');
    ok(now[other] > (before[name][other] || 0) + 30,
       name + " keeps decoding " + other + "'s video after media worker 0 " +
       'died');
    ok((await closes(name)).length === 0 && (await welcomes(name)) === 1,
       name + ' was not told to join again',
       JSON.stringify({ closes: await closes(name),
                        welcomes: await welcomes(name) }));
  }

  // room A: told 1012, joins again by itself once the worker is back
  for (const name of ROOMS.A) {
    ok((await closes(name)).includes(1012),
       name + ' is told its media worker restarted (1012)',
       JSON.stringify(await closes(name)));
  }
  for (const name of ROOMS.A) {
    const other = ROOMS.A.find((n) => n !== name);
    const back = await until(async () => (await welcomes(name)) >= 2 &&
                                         hearsAndSees(name, [other]),
                             { timeout: 40000, every: 500 });
    ok(back, name + ' joins again by itself and sees and hears ' + other);
  }
  diag('room A was back ' + (Date.now() - t0) + ' ms after the kill (as '
       + 'polled)');
  const restarted = childPid(0);
  ok(restarted > 0 && restarted !== victim,
     'the supervisor started media worker 0 again (pid ' + restarted + ')');

  for (const [r, names] of Object.entries(ROOMS)) {
    const n = await until(async () => (await fetch(ngx.base + 'api/rooms/' +
                                                   rooms[r].code)
      .then((x) => x.json())).participants === 2, { timeout: 10000 });
    ok(n, 'room ' + r + ' counts 2 participants');
    for (const name of names) {
      ok(people[name].errors.length === 0, name + ': no page errors',
         people[name].errors.join('\n'));
    }
  }
}

scenario()
  .catch((e) => ok(false, 'the scenario ran without an exception',
                   e.stack || String(e)))
  .finally(finish);
