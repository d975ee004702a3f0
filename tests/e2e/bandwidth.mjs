// Video that uses the link (issue: bandwidth estimation): two headless
// Chromiums whose camera is 1280x720 (the client asks for it; Chromium's
// fake camera gives what is asked).  Ada pins Ben.  The worker answers
// transport-cc and sends transport feedback on what each browser sends,
// so Chromium's send-side estimator leaves its 30 kbit/s floor:
//
//   - Ben's encoder is let past 1 Mbit/s (outbound-rtp targetBitrate, what
//     Chromium's estimate allows it), and his video send rate passes 300
//     kbit/s (ten times the old floor): Chromium's fake camera is a simple picture, and VP8 codes it
//     at 1280x720 and 20 fps in about 700 kbit/s however much it may use,
//     so the send rate is the content's, not the link's (both reported);
//   - Ada decodes Ben's video at 1280 wide (or what Chromium's own CPU
//     adaptation allows on this machine: its qualityLimitationReason is
//     reported);
//   - the answer Ben holds names transport-cc on every line.
//
// Prints TAP; run through bandwidth.t (a network namespace with only
// `lo`, a hard deadline).  The figures go to diag lines; a test never
// passes or fails on how fast it got there, only on where it got within
// a generous window.

import {
  ok, diag, sleep, until, openPerson, joinAs, scenarioRun, launchChromium,
  startServers, screenshot,
} from './lib.mjs';

const DEADLINE = 120000;      // the whole run; only a failing run reaches it
const WINDOW = 45000;         // ms to reach the figures below
const TARGET = 1000000;       // bit/s: the encoder target to pass
const RATE = 300000;          // bit/s: the send rate to pass (see above)

let browser = null;
const people = {};
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const open = (name, url) => openPerson(browser, people, name, url);

// In the page: the video sender's state and the first remote video's.
function mediaStats() {
  const pc = (window.__pcs || []).at(-1);
  if (!pc) return Promise.resolve(null);
  return pc.getStats().then((r) => {
    const out = { t: performance.now(), sent: 0, in: null, pair: null };
    r.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.sent += s.bytesSent;
        out.target = (out.target || 0) + (s.targetBitrate || 0);
        out.limit = s.qualityLimitationReason;
        out.outWidth = Math.max(out.outWidth || 0, s.frameWidth || 0);
      }
      if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded &&
          (!out.in || s.framesDecoded > out.in.frames)) {
        out.in = { frames: s.framesDecoded, width: s.frameWidth,
                   height: s.frameHeight, fps: s.framesPerSecond,
                   bytes: s.bytesReceived };
      }
      if (s.type === 'candidate-pair' && s.nominated &&
          s.availableOutgoingBitrate) {
        out.pair = s.availableOutgoingBitrate;
      }
    });
    return out;
  });
}

async function scenario() {
  const servers = await startServers(dir);
  if (!servers) return;
  const { ngx } = servers;
  if (!ok(ngx, 'nginx starts with the module')) return;
  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Sharp video', activity: 'friends' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201, 'the API creates a room')) return;

  browser = await launchChromium();
  const ada = await open('Ada', room.invite_url);
  ok(await joinAs(ada, 'Ada') === true, 'Ada joins');
  const ben = await open('Ben', room.invite_url);
  ok(await joinAs(ben, 'Ben') === true, 'Ben joins');

  // Ada pins Ben: his tile is the large one
  const pin = ada.getByRole('button', { name: 'Pin Ben', exact: true });
  await pin.click();
  ok(await pin.getAttribute('aria-pressed') === 'true', 'Ada pins Ben');

  // the answer Ben's browser holds once he receives Ada too:
  // transport-cc both ways
  const answerOf = () => ben.evaluate(() => {
    const sdp = window.__pcs.at(-1).remoteDescription.sdp;
    return sdp.split('\r\nm=').slice(1).map((sec) => ({
      recvonly: sec.includes('\r\na=recvonly'),
      twcc: sec.includes(' transport-cc\r\n'),
    }));
  });
  const fb = await until(async () => {
    const a = await answerOf();
    return a.some((s) => !s.recvonly) ? a : false;
  }, { timeout: 20000 }) || await answerOf();
  ok(fb.some((s) => s.recvonly) && fb.some((s) => !s.recvonly) &&
     fb.every((s) => s.twcc),
     "Ben's answer names transport-cc on the lines he sends and on those " +
     'he receives', JSON.stringify(fb));

  // one sample a second: Ben's send rate, Ada's picture of Ben
  const t0 = Date.now();
  let prev = await ben.evaluate(mediaStats);
  let reached = null;
  let targeted = null;
  let best = { rate: 0, width: 0, target: 0 };
  let last = null;
  while (Date.now() - t0 < WINDOW) {
    await sleep(1000);
    const now = await ben.evaluate(mediaStats);
    const seen = await ada.evaluate(mediaStats);
    const rate = (now.sent - prev.sent) * 8000 / (now.t - prev.t);
    prev = now;
    const width = seen && seen.in ? seen.in.width : 0;
    last = { s: Math.round((Date.now() - t0) / 1000), rate: Math.round(rate),
             target: now.target, estimate: now.pair, limit: now.limit,
             sendWidth: now.outWidth, recvWidth: width,
             recvFps: seen && seen.in ? seen.in.fps : 0 };
    if (rate > best.rate) best.rate = rate;
    if (width > best.width) best.width = width;
    if (now.target > best.target) best.target = now.target;
    if (reached === null && rate >= RATE) reached = last.s;
    if (targeted === null && now.target >= TARGET) targeted = last.s;
    if (reached !== null && targeted !== null && best.width >= 1280 &&
        Date.now() - t0 > 10000) break;
  }
  diag('last sample: ' + JSON.stringify(last));
  diag("Ben's encoder target " + Math.round(best.target / 1000) +
       ' kbit/s at most' + (targeted !== null ? ', past 1 Mbit/s after ' +
       targeted + ' s' : '') + '; he sent ' + Math.round(best.rate / 1000) +
       ' kbit/s at most' + (reached !== null ? ', past 300 kbit/s after ' +
       reached + ' s' : '') + '; Ada decoded Ben at ' + best.width +
       ' px wide at most');
  ok(targeted !== null, "Chromium's estimate lets Ben's encoder past 1 " +
     'Mbit/s (targetBitrate; it stayed at 30 kbit/s before the worker sent ' +
     'transport feedback)', JSON.stringify(last));
  ok(reached !== null, "Ben's video send rate passes 300 kbit/s (ten times the old floor)",
     JSON.stringify(last));
  // 1280 unless Chromium's CPU adaptation held it lower on this machine
  const cpuHeld = last && last.limit === 'cpu';
  ok(best.width >= 1280 || (cpuHeld && best.width >= 640),
     'Ada decodes Ben at 1280 wide (or, if Chromium says its CPU holds ' +
     'it back, at least 640)', JSON.stringify(last));
  if (best.width < 1280) diag('held at ' + best.width + ' px: ' + last.limit);

  await screenshot(ada, 'bandwidth-ada-1280x800', 300);
  for (const name of Object.keys(people)) {
    ok(people[name].errors.length === 0, name + "'s page threw no errors",
       people[name].errors.join('\n'));
  }
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
