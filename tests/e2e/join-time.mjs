// Join time, phase by phase (issue 10; docs/join-time.md).  Headless
// Chromiums join one room one after another, through the real nginx and
// the real media worker; each join is timed from the Join click to the
// first decoded frame of every other participant's video (getStats:
// framesDecoded > 0 on the inbound stream of each one), with marks for
// every phase in between: in the page (performance.now(): the WebSocket
// open, welcome, each offer and answer, ICE and DTLS connected, the first
// packet and the first decoded frame of each remote video) and in the
// media worker's log (ICE selected, DTLS connected and SRTP keys, each
// answer, the first packet and first keyframe forwarded to the newcomer).
//
// Two modes:
//   node join-time.mjs           (join-time.t, in make test): ngx_rooms,
//       one room of 3; asserts behaviour only: every phase is logged, in
//       order, and everyone decodes a frame of everyone.  Prints TAP.
//   node join-time.mjs --bench   (make jointime, inside tests/janus/janus.sh,
//       which runs Janus in the network namespace and sets JANUS_WS,
//       JANUS_HTTP and JANUS_IP): ngx_rooms and Janus VideoRoom
//       alternately (ours, Janus, ours, Janus ...), JOIN_REPS repetitions
//       (default 5) of rooms of JOIN_SIZES (default "3 5") participants;
//       prints the phase table of ngx_rooms and the medians side by side
//       with the ratio.  With JOIN_BASE_WORKER and JOIN_BASE_MODULE (another
//       build's rooms-worker and ngx_rooms_module.so), that build runs
//       too, in turn with the others, as "before".  Timing is reported,
//       never asserted.
//
// The measured join is the last one of each room (the N-th participant
// coming into a room of N-1, who must see all of them); each earlier one
// is reported too.  Both servers announce the same address (the veth
// address of the bench's namespace, 127.0.0.1 in the test), and both
// pages publish the camera (1280x720) as three simulcast layers and the
// microphone, from Chromium's fake devices.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  top, ok, diag, sleep, until, freeTcpPort, freeUdpPort, startNginx,
  startWorker, scenarioRun, launchChromium, tempDir,
} from './lib.mjs';

const BENCH = process.argv.includes('--bench');
const REPS = BENCH ? Number(process.env.JOIN_REPS || 5) : 1;
const SIZES = BENCH ? (process.env.JOIN_SIZES || '3 5').trim().split(/\s+/)
  .map(Number) : [3];
const JANUS = BENCH && process.env.JANUS_WS ? {
  ws: process.env.JANUS_WS, http: process.env.JANUS_HTTP,
} : null;
const ANNOUNCE = BENCH && process.env.JANUS_IP ? process.env.JANUS_IP
  : '127.0.0.1';
// another build of ngx_rooms run alongside, as "before" (a commit's
// build/rooms-worker and build/ngx_rooms_module.so, copied aside)
const BASE = BENCH && process.env.JOIN_BASE_WORKER &&
  process.env.JOIN_BASE_MODULE ? {
    worker: process.env.JOIN_BASE_WORKER,
    module: process.env.JOIN_BASE_MODULE,
  } : null;
// the whole run; only a failing run reaches it (a bench run: ~6 s a join)
const DEADLINE = BENCH ? 60000 + REPS * SIZES.reduce((a, n) => a + n, 0) *
  3 * 8000 : 120000;
const JOIN_LIMIT = 20000;     // one join, when it fails

let browser = null;
const people = {};
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

/* ---- in the page ------------------------------------------------------- */

// Before the page's own scripts: the marks of a join (window.__jt), from
// the first Join click (a submit of any form) on.  The WebSocket and
// RTCPeerConnection are wrapped to see what passes, never to change it.
function instrument() {
  const jt = window.__jt = {
    click: null, ws_open: null, welcome: null, offers: [], answers: [],
    renegotiates: [], ice: {}, dtls: {}, pkt: {}, dec: {},
    gum: null, gum_done: null, pc: null, create_offer: null,
    offer_made: null, local_set: null,
  };
  const now = () => performance.now();
  window.__pcs = [];

  // every 20 ms from the click: the first packet and the first decoded
  // frame of each inbound video, keyed "<pc index>/<mid>"; each receiving
  // video transceiver's own stats (a whole getStats() of a connection with
  // simulcast senders and many m-lines costs the busy page much more)
  async function poll() {
    const end = jt.click + 30000;
    while (!window.__jtStop && now() < end) {
      for (let i = 0; i < window.__pcs.length; i++) {
        for (const tr of window.__pcs[i].getTransceivers()) {
          if (tr.receiver.track.kind !== 'video' ||
              !/recv/.test(tr.currentDirection || '')) continue;
          const key = i + '/' + tr.mid;
          if (key in jt.dec) continue;
          const stats = await tr.receiver.getStats().catch(() => null);
          if (!stats) continue;
          const t = now();
          stats.forEach((s) => {
            if (s.type !== 'inbound-rtp') return;
            if (s.packetsReceived > 0 && !(key in jt.pkt)) jt.pkt[key] = t;
            if (s.framesDecoded > 0 && !(key in jt.dec)) jt.dec[key] = t;
          });
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  document.addEventListener('submit', () => {
    if (jt.click !== null) return;
    jt.click = now();
    poll();
  }, true);

  const md = navigator.mediaDevices;
  const gum = md.getUserMedia.bind(md);
  md.getUserMedia = (...args) => {
    if (jt.gum === null) jt.gum = now();
    return gum(...args).then((m) => {
      if (jt.gum_done === null) jt.gum_done = now();
      return m;
    });
  };

  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => {
        if (jt.ws_open === null) jt.ws_open = now();
      });
      this.addEventListener('message', (ev) => {
        const t = now();
        let m;
        try {
          m = JSON.parse(ev.data);
        } catch (e) {
          return;
        }
        if (m.type === 'welcome' && jt.welcome === null) jt.welcome = t;
        if (m.type === 'answer') jt.answers.push(t);
        if (m.type === 'renegotiate') jt.renegotiates.push(t);
      });
    }
    send(data) {
      try {
        if (JSON.parse(data).type === 'offer') jt.offers.push(now());
      } catch (e) { /* not ours to judge */ }
      return super.send(data);
    }
  };

  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(...args) {
      super(...args);
      const i = window.__pcs.push(this) - 1;
      if (jt.pc === null) jt.pc = now();
      this.addEventListener('iceconnectionstatechange', () => {
        if (['connected', 'completed'].includes(this.iceConnectionState) &&
            !(i in jt.ice)) jt.ice[i] = now();
      });
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected' && !(i in jt.dtls)) {
          jt.dtls[i] = now();
        }
      });
      if (i > 0) return;
      // the first offer's steps, on the first peer connection
      const createOffer = this.createOffer.bind(this);
      this.createOffer = async (...a) => {
        if (jt.create_offer === null) jt.create_offer = now();
        const o = await createOffer(...a);
        if (jt.offer_made === null) jt.offer_made = now();
        return o;
      };
      const setLocal = this.setLocalDescription.bind(this);
      this.setLocalDescription = async (...a) => {
        const r = await setLocal(...a);
        if (jt.local_set === null) jt.local_set = now();
        return r;
      };
    }
  };
}

// In the page, after a join: its marks, with each remote video resolved
// to the participant's name (ngx_rooms: the answer's streams map of the
// one peer connection; Janus: the subscription's streams), times in ms
// from the click, and the click as epoch ms (for the worker's log).
function marksInPage(kind) {
  const jt = window.__jt;
  const rel = (t) => (t === null || t === undefined ? null : t - jt.click);
  const byName = (table) => {
    const out = {};
    for (const [key, t] of Object.entries(table)) {
      const [i, mid] = key.split('/');
      let name = null;
      if (kind === 'ours') {
        if (Number(i) !== window.__pcs.length - 1) continue;
        const b = window.roomsState.streams[mid];
        name = b && b.kind === 'video' &&
          window.roomsState.participants[String(b.participant)];
      } else {
        name = window.janusState.streams[mid];
      }
      if (name && !(name in out && out[name] <= t - jt.click)) {
        out[name] = t - jt.click;
      }
    }
    return out;
  };
  // the receiving peer connection (Janus's subscription may be made
  // before or after its publisher connection)
  let last = window.__pcs.length - 1;
  if (kind !== 'ours') {
    const r = window.__pcs.findIndex((pc) => pc.getTransceivers().some(
      (tr) => /recv/.test(tr.currentDirection || '')));
    if (r >= 0) last = r;
  }
  return {
    clickEpoch: performance.timeOrigin + jt.click,
    id: kind === 'ours' ? window.roomsState.id : null,
    ws_open: rel(jt.ws_open), welcome: rel(jt.welcome),
    gum: rel(jt.gum), gum_done: rel(jt.gum_done), pc: rel(jt.pc),
    create_offer: rel(jt.create_offer), offer_made: rel(jt.offer_made),
    local_set: rel(jt.local_set),
    offers: jt.offers.map(rel), answers: jt.answers.map(rel),
    renegotiates: jt.renegotiates.map(rel),
    ice: rel(jt.ice[last]), dtls: rel(jt.dtls[last]),
    pkt: byName(jt.pkt), dec: byName(jt.dec),
  };
}

/* ---- the Janus page ---------------------------------------------------- */

// A local web server for the Janus page and Debian's janus.js and
// adapter.js (tests/janus/janus.sh installs them).
async function janusPages() {
  const files = {
    '/janus-room.html': [path.join(top, 'tests/e2e/janus-room.html'),
                         'text/html'],
    '/janus.js': ['/usr/share/javascript/janus-gateway/janus.js',
                  'text/javascript'],
    '/adapter.js': ['/usr/share/javascript/webrtc-adapter/adapter.js',
                    'text/javascript'],
  };
  const port = await freeTcpPort();
  const server = http.createServer((req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': f[1] });
    res.end(fs.readFileSync(f[0]));
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${port}/` };
}

// A VideoRoom room over Janus's HTTP API, with the settings
// tests/janus/janus.sh documents as the fair ones.
let janusRoomId = 1000;
async function janusRoom(publishers) {
  const post = async (url, body) => {
    const r = await fetch(url, {
      method: 'POST', body: JSON.stringify(Object.assign({
        transaction: String(Math.random()).slice(2),
      }, body)),
    });
    return r.json();
  };
  const s = await post(JANUS.http, { janus: 'create' });
  const sid = s.data.id;
  const h = await post(`${JANUS.http}/${sid}`, {
    janus: 'attach', plugin: 'janus.plugin.videoroom',
  });
  const room = ++janusRoomId;
  const r = await post(`${JANUS.http}/${sid}/${h.data.id}`, {
    janus: 'message',
    body: { request: 'create', room, publishers, videocodec: 'vp8',
            audiocodec: 'opus', record: false, bitrate: 0, fir_freq: 0 },
  });
  await post(`${JANUS.http}/${sid}`, { janus: 'destroy' });
  const d = r.plugindata && r.plugindata.data;
  if (!d || d.videoroom !== 'created') {
    throw new Error('Janus create: ' + JSON.stringify(r));
  }
  return room;
}

/* ---- the media worker's log -------------------------------------------- */

// The worker's phases of participant `id`'s join, in ms from the click
// (the log's stamps are the same machine's clock, to the millisecond).
function workerPhases(log, id, clickEpoch) {
  const text = fs.readFileSync(log, 'utf8').split('\n');
  const out = { answers: [], plis: [], fwd_first: [], fwd_keyframe: [] };
  let newcomerKeys = null;
  for (const line of text) {
    const m = line.match(/^(\S+Z) rooms-worker \[\w+\] (.*)$/);
    if (!m) continue;
    const t = Date.parse(m[1]) - clickEpoch;
    if (t < -1000) continue;
    const msg = m[2];
    const esc = id.replace(/[^\w]/g, '\\$&');
    if (new RegExp(`^participant joined: .* id ${esc} `).test(msg)) {
      out.join ??= t;
    } else if (new RegExp(`^${esc} offers `).test(msg)) {
      (out.offers ||= []).push(t);
    } else if (msg === `answered ${id} (answer ${out.answers.length + 1})`) {
      out.answers.push(t);
    } else if (new RegExp(`^ICE selected: ${esc} `).test(msg)) {
      out.ice ??= t;
    } else if (new RegExp(`^DTLS connected: ${esc} `).test(msg)) {
      out.dtls ??= t;
      newcomerKeys = t;
    } else if (newcomerKeys !== null && /^PLI to /.test(msg)) {
      out.plis.push(t);
    } else if (new RegExp(`^forwarded to ${esc} mid \\S+: first packet` +
                          `.* video$`).test(msg)) {
      out.fwd_first.push(t);
      if (/a keyframe/.test(msg)) out.fwd_keyframe.push(t);
    } else if (new RegExp(`^forwarded to ${esc} mid \\S+: first keyframe` +
                          `.* video$`).test(msg)) {
      out.fwd_keyframe.push(t);
    }
  }
  return out;
}

/* ---- one room ---------------------------------------------------------- */

const NAME = { ours: 'ngx_rooms', base: 'ngx_rooms before', janus: 'Janus' };
const NAMES = ['Ann', 'Ben', 'Cid', 'Dee', 'Eve', 'Fay', 'Gus', 'Hal'];

// the page a kind of server serves: ngx_rooms' (ours and before) or Janus's
const pageKind = (kind) => (kind === 'janus' ? 'janus' : 'ours');

// Everyone of `names` decodes a video frame of every other one.
async function allSee(pages, names, kind) {
  for (const n of names) {
    const m = await pages[n].evaluate(marksInPage, pageKind(kind));
    if (!names.every((o) => o === n || o in m.dec)) return false;
  }
  return true;
}

// One room of n on `kind` ('ours' or 'janus'): the pages open, then each
// one joins after the last is seen by all; returns each join's marks (the
// first one's has no remote) or null when a join failed.
async function room(kind, n, servers, rep) {
  let url;
  if (kind !== 'janus') {
    const res = await fetch(servers[kind].base + 'api/rooms', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Join time', activity: 'chat' }),
    });
    const r = await res.json();
    url = r.invite_url;
    if (!url) throw new Error('room not created: ' + JSON.stringify(r));
  } else {
    const id = await janusRoom(n + 2);
    url = servers.janus.base + 'janus-room.html?room=' + id + '&ws=' +
      encodeURIComponent(JANUS.ws);
  }

  const names = NAMES.slice(0, n);
  const pages = {};
  const contexts = [];
  for (const name of names) {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
    });
    contexts.push(context);
    const page = await context.newPage();
    const key = kind + rep + '-' + name;
    const p = people[key] = { context, page, errors: [], console: [] };
    page.on('pageerror', (e) => p.errors.push(String(e)));
    page.on('console', (m) => p.console.push(m.type() + ': ' + m.text()));
    page.setDefaultTimeout(20000);
    await page.addInitScript(instrument);
    await page.goto(url);
    if (kind === 'janus') {
      await until(() => page.evaluate(() => window.janusReady),
                  { timeout: 10000, every: 50 });
    }
    await page.getByLabel('Your name').fill(name);
    pages[name] = page;
  }

  const joins = [];
  for (let k = 0; k < n; k++) {
    const name = names[k];
    const page = pages[name];
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    const seen = await until(() => allSee(pages, names.slice(0, k + 1), kind),
                             { timeout: JOIN_LIMIT, every: 50 });
    const m = await page.evaluate(marksInPage, pageKind(kind));
    m.name = name;
    m.ok = !!seen;
    m.others = names.slice(0, k);
    joins.push(m);
    if (!seen) break;
  }

  // the pages' pollers stop, then the people leave
  for (const name of names) {
    await pages[name].evaluate(() => { window.__jtStop = true; })
      .catch(() => {});
  }
  for (const c of contexts) await c.close().catch(() => {});
  for (const key of Object.keys(people)) {
    if (key.startsWith(kind + rep + '-') && joins.every((j) => j.ok)) {
      delete people[key];
    }
  }
  return joins;
}

/* ---- figures ----------------------------------------------------------- */

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!v.length) return null;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
};
const fmt = (x) => (x === null || x === undefined ? '-' : Math.round(x)
  .toString());
const pad = (s, w) => String(s).padStart(w);
const lastOf = (xs) => (xs && xs.length ? xs[xs.length - 1] : null);
const firstOf = (xs) => (xs && xs.length ? xs[0] : null);
const maxOf = (o) => {
  const v = Object.values(o || {});
  return v.length ? Math.max(...v) : null;
};
const minOf = (o) => {
  const v = Object.values(o || {});
  return v.length ? Math.min(...v) : null;
};

// A join's phases, as the rows of the phase table: [label, ms from the
// click], in the order a join goes through them.
function phases(j) {
  const w = j.worker || {};
  return [
    ['camera and microphone asked for', j.gum],
    ['WebSocket open', j.ws_open],
    ['welcome', j.welcome],
    ['worker: participant joined', w.join],
    ['camera and microphone open', j.gum_done],
    ['peer connection made', j.pc],
    ['createOffer called', j.create_offer],
    ['offer made', j.offer_made],
    ['setLocalDescription done', j.local_set],
    ['first offer sent', firstOf(j.offers)],
    ['worker: first answer', firstOf(w.answers)],
    ['first answer received', firstOf(j.answers)],
    ['renegotiate received', firstOf(j.renegotiates)],
    ['last offer sent', lastOf(j.offers)],
    ['last answer received', lastOf(j.answers)],
    ['worker: ICE selected', w.ice],
    ['ICE connected (page)', j.ice],
    ['worker: DTLS connected, SRTP keys', w.dtls],
    ['DTLS connected (page)', j.dtls],
    ['worker: PLI to a publisher', firstOf(w.plis)],
    ['worker: first video packet forwarded', firstOf(w.fwd_first)],
    ['worker: last first keyframe forwarded', lastOf(w.fwd_keyframe)],
    ['first remote video packet (page)', minOf(j.pkt)],
    ['first remote frame decoded', minOf(j.dec)],
    ['every remote frame decoded', maxOf(j.dec)],
  ];
}

/* ---- the run ----------------------------------------------------------- */

async function scenario() {
  const udpPort = await freeUdpPort();
  const worker = await startWorker(dir, udpPort, { announceIp: ANNOUNCE });
  if (!ok(worker, 'the media worker starts')) return;
  const ngx = await startNginx(dir, await freeTcpPort());
  if (!ok(ngx, 'nginx starts with the module')) return;
  const servers = { ours: ngx };
  if (BENCH && !JANUS) {
    diag('no JANUS_WS: ngx_rooms only (run through tests/janus/janus.sh ' +
         'for the comparison: make jointime)');
  }
  if (JANUS) servers.janus = await janusPages();
  const logs = { ours: path.join(dir, 'logs/worker.log') };
  let baseDir = null;
  if (BASE) {
    baseDir = tempDir();
    const w = await startWorker(baseDir, await freeUdpPort(),
                                { announceIp: ANNOUNCE, binary: BASE.worker });
    const n = w && await startNginx(baseDir, await freeTcpPort(),
                                    { module: BASE.module });
    if (!ok(w && n, 'the "before" build starts (' + BASE.worker + ')')) {
      return;
    }
    servers.base = n;
    logs.base = path.join(baseDir, 'logs/worker.log');
  }

  browser = await launchChromium();
  const log = logs.ours;

  // results[kind][n] = [the room's joins, per repetition]
  const results = { ours: {}, base: {}, janus: {} };
  const kinds = ['ours'];
  if (BASE) kinds.push('base');
  if (JANUS) kinds.push('janus');
  for (let rep = 0; rep < REPS; rep++) {
    for (const n of SIZES) {
      for (const kind of kinds) {
        const joins = await room(kind, n, servers, rep);
        if (kind !== 'janus') {
          for (const j of joins) {
            if (j.id) j.worker = workerPhases(logs[kind], j.id, j.clickEpoch);
          }
        }
        (results[kind][n] ||= []).push(joins);
        const last = joins[joins.length - 1];
        ok(joins.length === n && joins.every((j) => j.ok),
           `${NAME[kind]}, room of ${n} ` +
           `(repetition ${rep + 1}): everyone decodes a frame of everyone`,
           'the last join: ' + JSON.stringify(last));
        if (BENCH) {
          diag(`${kind} n=${n} rep ${rep + 1}: joins ` + joins.map((j) =>
            fmt(maxOf(j.dec))).join(' ') + ' ms');
        }
      }
    }
  }

  // the media worker's log, for a look at a join's every line
  fs.mkdirSync(path.join(top, 'build/e2e'), { recursive: true });
  fs.copyFileSync(log, path.join(top, 'build/e2e/join-time-worker.log'));
  if (!BENCH) {
    checkPhases(results.ours[SIZES[0]][0]);
    return;
  }
  report(results);
  if (baseDir) fs.rmSync(baseDir, { recursive: true, force: true });
}

// The test's assertions: the last join went through every phase, in
// order, with one offer (welcome said what to receive).
function checkPhases(joins) {
  const j = joins && joins[joins.length - 1];
  if (!ok(j && j.ok, 'the last join completed')) return;
  const rows = phases(j);
  const missing = rows.filter(([label, t]) => typeof t !== 'number' &&
    !/renegotiate/.test(label)).map(([label]) => label);
  ok(missing.length === 0, 'every phase of the join is logged',
     'missing: ' + missing.join(', '));
  // the order a join must go through, page (P) and worker (W)
  // interleaved.  The two are different processes' clocks, and the
  // worker stamps its log line after the send: a packet forwarded on
  // loopback can reach the page "before" the worker's stamp (7 ms once,
  // in CI), so a step from one clock to the other may go back SKEW ms
  const P = 'page', W = 'worker', SKEW = 50;
  const order = [[j.ws_open, P], [j.welcome, P], [firstOf(j.offers), P],
                 [firstOf(j.worker.answers), W], [firstOf(j.answers), P]];
  const after = [[j.worker.ice, W], [j.worker.dtls, W],
                 [firstOf(j.worker.fwd_first), W], [minOf(j.pkt), P],
                 [minOf(j.dec), P]];
  const inOrder = (xs) => xs.every(([x, clock], i) => i === 0 ||
    xs[i - 1][0] <= x + (xs[i - 1][1] === clock ? 0 : SKEW));
  ok(inOrder(order) && inOrder(after) && firstOf(j.worker.answers) <= j.worker.ice,
     'the phases come in order: WebSocket, welcome, offer, answer, ICE, ' +
     'DTLS, first packet forwarded, received, decoded',
     rows.map(([l, t]) => l + ': ' + fmt(t)).join('\n'));
  ok(j.offers.length === 1 && j.renegotiates.length === 0,
     "the newcomer's first offer receives everyone: no renegotiate, one " +
     'offer', `offers ${j.offers.length}, renegotiates ` +
     j.renegotiates.length);
  ok(j.others.every((o) => o in j.dec && j.pkt[o] <= j.dec[o]),
     'the newcomer decodes a frame of every other participant',
     JSON.stringify(j.dec));
  diag(table(joins.length, [joins]));
}

// The phases Janus's page shows (its WebSocket, the subscription's
// peer connection, the remote videos).
function janusPhases(j) {
  return [
    ['camera and microphone asked for', j.gum],
    ['WebSocket open', j.ws_open],
    ['camera and microphone open', j.gum_done],
    ['ICE connected (subscription)', j.ice],
    ['DTLS connected (subscription)', j.dtls],
    ['first remote video packet (page)', minOf(j.pkt)],
    ['first remote frame decoded', minOf(j.dec)],
    ['every remote frame decoded', maxOf(j.dec)],
  ];
}

// The median of each phase over the rooms' last joins (each row on its
// own: the rows of one table need not add up).
function table(n, results, kind = 'ours') {
  const lines = [];
  const rows = kind === 'janus' ? janusPhases : phases;
  const last = results.map((joins) => joins[joins.length - 1])
    .filter((j) => j.ok);
  if (!last.length) return `${kind}: no complete room of ${n}`;
  lines.push(`${NAME[kind]}, participant ` +
             `${n}'s join, ms from the Join click (median of ` +
             `${last.length}):`);
  for (const [i, [label]] of rows(last[0]).entries()) {
    const v = median(last.map((j) => rows(j)[i][1]));
    lines.push('  ' + label.padEnd(42) + pad(fmt(v), 6));
  }
  return lines.join('\n');
}

function report(results) {
  const out = [];
  for (const n of SIZES) {
    out.push(table(n, results.ours[n]));
    out.push('');
    if (BASE) {
      out.push(table(n, results.base[n], 'base'));
      out.push('');
    }
    if (JANUS) {
      out.push(table(n, results.janus[n], 'janus'));
      out.push('');
    }
  }
  out.push('Join click -> first decoded frame of every other participant, ' +
           'median ms (' + REPS + ' rooms each, run alternately):');
  out.push('  participants   ngx_rooms   Janus   ours/Janus   ' +
           '(every join k>=2: ngx_rooms  Janus)' +
           (BASE ? '   before  before/Janus' : ''));
  for (const n of SIZES) {
    const lastJoin = (kind) => median((results[kind][n] || [])
      .map((joins) => joins.length === n && joins[n - 1].ok
        ? maxOf(joins[n - 1].dec) : null));
    const every = (kind) => median((results[kind][n] || []).flatMap(
      (joins) => joins.slice(1).map((j) => (j.ok ? maxOf(j.dec) : null))));
    const o = lastJoin('ours');
    const jn = JANUS ? lastJoin('janus') : null;
    out.push('  ' + pad(n, 12) + pad(fmt(o), 12) + pad(fmt(jn), 8) +
             pad(o && jn ? (o / jn).toFixed(2) : '-', 13) +
             pad(fmt(every('ours')), 22) + pad(fmt(JANUS ? every('janus')
                                                   : null), 7) +
             (BASE ? pad(fmt(lastJoin('base')), 9) +
              pad(lastJoin('base') && jn ? (lastJoin('base') / jn).toFixed(2)
                : '-', 14) : ''));
  }
  diag(out.join('\n'));
  fs.mkdirSync(path.join(top, 'build'), { recursive: true });
  fs.writeFileSync(path.join(top, 'build/join-time.txt'),
                   out.join('\n') + '\n');
  diag('(also in build/join-time.txt)');
}

scenario().catch((e) => ok(false, 'the scenario runs', e.stack))
  .finally(finish);
