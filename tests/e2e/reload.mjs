// A call survives nginx reloads (issue 11, docs/protocol.md "Resuming
// after a reload"): three headless Chromiums (Alice the host, Bob,
// Carol) in a call through the real nginx (2 workers) and the real media
// worker; `nginx -s reload` three times.  Each reload closes every
// WebSocket (the old workers go); each browser resumes on a new worker
// and keeps its peer connection.  What a user would notice is measured in
// each page: every 100 ms, framesDecoded of each remote video; a time it
// did not grow is a freeze.  A freeze a reload causes overlaps that
// reload (from the command until every browser resumed); the longest
// freeze anywhere is printed too, with that of as long a window without
// reloads, which is what this machine's load alone does to a call (a
// starved Chromium stalls, the server's congestion control pauses a
// video).  Prints TAP; run it through reload.t.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  ok, diag, sleep, until, nginxWorkers, receivedInPage, scenarioRun,
  launchChromium, openPerson, joinAs, startServers, captureSignaling,
} from './lib.mjs';

const DEADLINE = 150000;      // the whole run; only a failing run reaches it
const NAMES = ['Alice', 'Bob', 'Carol'];
const RELOADS = 3;
const WINDOW_MS = 9000;       // each measured window, reloads 3 s apart
const WARMUP_MS = 8000;       // the call settles before anything is measured

// What the test asserts: no freeze longer than this over a reload.  A
// call that goes on through a reload shows none above this machine's
// normal jitter (the media path never changes; the issue asks for none
// over 0.5 s, and the figure is printed); one joined again from scratch
// shows a new session's setup (a WebSocket, ICE, DTLS, an offer, a
// keyframe) at least, and the code before resuming existed did not join
// again at all.  The bound is generous for a loaded 2-core machine
// running three Chromiums.
const FREEZE_BOUND_MS = 1000;

// A small window: every tile asks for the smallest simulcast layer from
// the start, so no layer switch (which waits for a keyframe, and shows
// as a short freeze while the link's estimate grows) happens in either
// window.  What is measured is the reloads alone.
const VIEWPORT = { width: 480, height: 360 };

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

// In the page: samples framesDecoded of each remote video (by name, the
// page's own map of whose stream each m-line carries) every 100 ms, and
// keeps, for each, the times (Date.now()) of the samples that saw it grow.
function startSampler() {
  const f = window.__freeze = { grew: {}, frames: {}, samples: 0,
                                maxSpacing: 0, last: 0, minTiles: Infinity };
  f.reset = () => {
    const now = Date.now();
    for (const k of Object.keys(f.grew)) f.grew[k] = [now];
    f.samples = 0;
    f.maxSpacing = 0;
    f.minTiles = Infinity;
    f.last = now;
  };
  setInterval(async () => {
    const pc = (window.__pcs || []).at(-1);
    const st = window.roomsState;
    if (!pc || !st) return;
    const per = {};
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
      const b = st.streams[s.mid];
      const name = b && st.participants[String(b.participant)];
      if (name) per[name] = (per[name] || 0) + (s.framesDecoded || 0);
    });
    const now = Date.now();
    if (f.last) f.maxSpacing = Math.max(f.maxSpacing, now - f.last);
    f.last = now;
    f.samples++;
    f.minTiles = Math.min(f.minTiles,
      document.querySelectorAll('#tiles [data-participant]').length);
    for (const [name, v] of Object.entries(per)) {
      if (!f.grew[name]) f.grew[name] = [];
      if (v > (f.frames[name] || 0)) {
        f.grew[name].push(now);
        f.frames[name] = v;
      }
    }
  }, 100);
}

const sampled = (name) => people[name].page.evaluate(() => {
  const f = window.__freeze;
  return { grew: f.grew, frames: f.frames, samples: f.samples,
           maxSpacing: f.maxSpacing, minTiles: f.minTiles, now: Date.now() };
});
const resetFreeze = (name) => people[name].page.evaluate(
  () => window.__freeze.reset());
const signals = (name, type) => people[name].page.evaluate(
  (t) => window.__signals.filter((s) => s.dir === 'in' && s.type === t)
    .map((s) => s.msg), type);

async function hearsAndSees(name, others) {
  const r = await people[name].page.evaluate(receivedInPage);
  return r && others.every((o) => r[o] &&
    r[o].video.some((v) => v > 0) && r[o].audio.some((v) => v > 0)) ? r : false;
}

// The freezes of one window: for every page and remote video, the gaps
// between the samples that saw it grow (the last one runs to the end).
// longest: the longest anywhere; atReload: the longest that overlaps a
// reload, from its command until every browser had resumed (a freeze a
// reload causes overlaps it; one elsewhere comes from the machine, as the
// window without reloads shows).
async function measure(label, reloads = []) {
  let longest = 0;
  let atReload = 0;
  const all = {};
  for (const name of NAMES) {
    const f = all[name] = await sampled(name);
    const per = {};
    for (const o of NAMES.filter((n) => n !== name)) {
      const t = (f.grew[o] || []).concat([f.now]);
      let worst = 0;
      for (let i = 1; i < t.length; i++) {
        const gap = t[i] - t[i - 1];
        worst = Math.max(worst, gap);
        if (reloads.some(([a, b]) => t[i - 1] <= b && t[i] >= a)) {
          atReload = Math.max(atReload, gap);
        }
      }
      if (t.length < 2) worst = Infinity;
      per[o] = worst;
      longest = Math.max(longest, worst);
    }
    diag(label + ': ' + name + ' longest freeze per video (ms) ' +
         JSON.stringify(per) + ', frames ' + JSON.stringify(f.frames) +
         ', ' + f.samples + ' samples, widest spacing ' + f.maxSpacing +
         ' ms');
  }
  return { longest, atReload, all };
}

/* ------------------------------------------------------------------------ */

async function scenario() {
  const servers = await startServers(dir);
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module: 2 workers, reuseport')) return;

  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Reloads' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201, 'the API creates a room')) return;

  browser = await launchChromium();
  for (const name of NAMES) {
    await openPerson(browser, people, name,
                     name === 'Alice' ? room.host_url : room.invite_url,
                     { init: [captureSignaling, startSampler],
                       viewport: VIEWPORT });
    const r = await until(async () => (await joinAs(people[name].page, name,
                                                    { timeout: 10000 }))
                                      === true, { timeout: 40000, every: 500 });
    if (!ok(r, name + ' joins')) return;
  }

  for (const name of NAMES) {
    const others = NAMES.filter((n) => n !== name);
    const r = await until(() => hearsAndSees(name, others), { timeout: 40000 });
    if (!ok(r, name + ' sees and hears ' + others.join(' and '))) return;
  }

  const ids = {};
  for (const name of NAMES) {
    ids[name] = await people[name].page.evaluate(() => window.roomsState.id);
  }
  const before = Object.values(nginxWorkers(ngx.port));
  diag('WebSockets held by nginx workers ' + before.join(' '));

  // The call settles first: the first seconds of a call see its link's
  // estimate found and its layers chosen (a switch waits for a keyframe).
  // Then the baseline: a window as long as the reloads', with no reload.
  await sleep(WARMUP_MS);
  for (const name of NAMES) await resetFreeze(name);
  await sleep(WINDOW_MS);
  const base = await measure('no reload');

  // three reloads, 3 s apart; each browser resumes after each
  for (const name of NAMES) await resetFreeze(name);
  const conf = path.join(dir, 'nginx.conf');
  const reloads = [];
  for (let i = 1; i <= RELOADS; i++) {
    const t0 = Date.now();
    execFileSync('/usr/sbin/nginx', ['-p', dir, '-e',
                                     path.join(dir, 'logs/error.log'),
                                     '-c', conf, '-s', 'reload']);
    const back = await until(async () => {
      for (const name of NAMES) {
        if ((await signals(name, 'resumed')).length < i) return false;
      }
      return true;
    }, { timeout: 15000, every: 100 });
    reloads.push([t0, Date.now()]);
    ok(back, 'reload ' + i + ': every browser resumes on a new worker');
    diag('reload ' + i + ': every browser resumed within ' +
         (Date.now() - t0) + ' ms (as polled)');
    await sleep(3000);
  }
  const through = await measure('three reloads', reloads);

  const after = Object.values(nginxWorkers(ngx.port));
  diag('WebSockets held by nginx workers ' + after.join(' '));
  ok(after.length === 3 && after.every((p) => !before.includes(p)),
     'the WebSockets are now held by new nginx workers',
     before.join(' ') + ' -> ' + after.join(' '));

  diag('longest freeze over a reload: ' + through.atReload + ' ms' +
       (through.atReload <= 500 ? ' (none over 0.5 s)' : ' (over 0.5 s)') +
       '; longest anywhere: ' + through.longest + ' ms through the reloads, ' +
       base.longest + ' ms in as long a window without one');
  ok(through.atReload < FREEZE_BOUND_MS,
     'no video froze for ' + FREEZE_BOUND_MS + ' ms over a reload ' +
     '(longest: ' + through.atReload + ' ms)');

  for (const name of NAMES) {
    const others = NAMES.filter((n) => n !== name);
    const f = through.all[name];
    const b = base.all[name];
    ok(others.every((o) => f.frames[o] > b.frames[o] + 50),
       name + ': framesDecoded kept growing on every remote video',
       JSON.stringify({ before: b.frames, after: f.frames }));
    ok(f.minTiles === 2, name + ' saw both others\' tiles all along');
    const st = await people[name].page.evaluate(() => ({
      id: window.roomsState.id, pcs: window.__pcs.length,
      names: Object.values(window.roomsState.participants).sort(),
    }));
    ok(st.id === ids[name] && st.pcs === 1,
       name + ' is the same participant with the same peer connection',
       JSON.stringify(st));
    ok(JSON.stringify(st.names) === JSON.stringify(others.sort()),
       name + ' still has ' + others.join(' and ') + ' in the call');
    ok((await signals(name, 'participant_left')).length === 0 &&
       (await signals(name, 'welcome')).length === 1,
       name + ' was told of nobody leaving, and never joined again');
    ok(people[name].errors.length === 0, name + ': no page errors',
       people[name].errors.join('\n'));
  }
  const n = (await fetch(ngx.base + 'api/rooms/' + room.code)
    .then((r) => r.json())).participants;
  ok(n === 3, 'the room counts 3 participants', 'got ' + n);
}

scenario()
  .catch((e) => ok(false, 'the scenario ran without an exception',
                   e.stack || String(e)))
  .finally(finish);
