// Helpers of the browser end-to-end tests: TAP output, the real media
// worker and the real nginx in a temporary folder, Chromium with fake
// devices, and polling.  Everything here is real; nothing is mocked.
//
// The tests run as root inside a network namespace that has only `lo`
// (see first-call.t): Chromium then offers loopback candidates only.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const top = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
                                '../..');

/* ---- TAP ----------------------------------------------------------------- */

// The plan is printed at the end (TAP allows it), so a run cut short by
// the hard deadline shows up in prove as a missing plan, never as a pass.
let count = 0;
let failed = 0;
let closed = false;     // the plan is out: nothing may follow it

// Once a test has failed, diagnostics go to stderr as well, as
// Test::More's diag does: prove shows stderr even when not verbose, so a
// CI log carries why a suite failed (the page's console, the logs).
export function diag(text) {
  const say = failed ? console.error : console.log;
  for (const line of String(text).split('\n')) say('# ' + line);
}

export function ok(cond, name, why) {
  if (closed) return !!cond;
  count++;
  console.log((cond ? 'ok ' : 'not ok ') + count + ' - ' + name);
  if (!cond) {
    failed++;
    diag('failed: ' + name);
    if (why) diag(why);
  }
  return !!cond;
}

export function done() {
  closed = true;
  console.log('1..' + count);
  return failed === 0 && count > 0;
}

/* ---- waiting ------------------------------------------------------------- */

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns something truthy, or the time is up; returns
// the last value either way.  A generous limit only bounds a failing run:
// a passing run never waits it out.
export async function until(fn, { timeout = 30000, every = 250 } = {}) {
  const end = Date.now() + timeout;
  let v;
  for (;;) {
    try {
      v = await fn();
    } catch (e) {
      v = undefined;
    }
    if (v || Date.now() > end) return v;
    await sleep(every);
  }
}

/* ---- ports and processes ---------------------------------------------- */

export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const children = [];

// Starts a program with its output in a log file; it is stopped by
// stopAll() (and by the .t wrapper, which kills our process group).
// env: its environment (by default ours).
export function start(file, args, log, stopSignal = 'SIGTERM',
                      env = process.env) {
  const fd = fs.openSync(log, 'a');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd], env });
  fs.closeSync(fd);
  child.stopSignal = stopSignal;
  child.exited = new Promise((r) => child.on('exit', (code, sig) => {
    child.exitStatus = sig || code;
    r();
  }));
  child.on('error', () => {});
  children.push(child);
  return child;
}

export async function stop(child) {
  if (child.exitStatus === undefined) {
    child.kill(child.stopSignal);
    await Promise.race([child.exited, sleep(5000)]);
    if (child.exitStatus === undefined) child.kill('SIGKILL');
  }
  await child.exited;
}

export async function stopAll() {
  await Promise.all(children.map(stop));
}

/* ---- the servers ------------------------------------------------------- */

// A world-readable temporary folder: nginx's workers run as nobody and
// must reach the store (in data/, which is world-writable) and the media
// worker's control socket.
export function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rooms-e2e-'));
  fs.chmodSync(dir, 0o755);
  for (const d of ['logs', 'data', 'tmp']) {
    fs.mkdirSync(path.join(dir, d));
  }
  fs.chmodSync(path.join(dir, 'data'), 0o777);
  return dir;
}

// ROOMS_E2E_WORKER, ROOMS_E2E_MODULE: other builds to test
export const workerBinary = process.env.ROOMS_E2E_WORKER ||
                            path.join(top, 'build/rooms-worker');
export const moduleFile = process.env.ROOMS_E2E_MODULE ||
                          path.join(top, 'build/ngx_rooms_module.so');

// announceIp: the address the worker puts in its answers (127.0.0.1; the
// join-time bench uses the veth address tests/janus/janus.sh made);
// binary: another build of the worker (the join-time bench's "before")
// workers: rooms-worker --workers (1: the suites that count on one port and
// one pid; more: ports udpPort .. udpPort + workers - 1); another binary
// (an older build, which may not know the option) gets it only when more
// than one is asked for
export async function startWorker(dir, udpPort,
                                  { announceIp = '127.0.0.1',
                                    binary = workerBinary,
                                    workers = 1 } = {}) {
  const sock = path.join(dir, 'worker.sock');
  // nginx's workers run as nobody under root: the control socket is theirs
  const owner = process.getuid() === 0 ? ['--socket-user', 'nobody'] : [];
  const child = start(binary,
    ['--udp-port', String(udpPort), '--announce-ip', announceIp,
     '--control', sock, '--log-level', 'debug', ...owner,
     ...(binary === workerBinary || workers !== 1
       ? ['--workers', String(workers)] : [])],
    path.join(dir, 'logs/worker.log'));
  const up = await until(() => child.exitStatus === undefined
                         ? fs.existsSync(sock) : 'exited',
                         { timeout: 15000, every: 100 });
  return up === true ? child : null;
}

// nginx as root with 2 workers (they run as nobody), `reuseport` so that
// connections spread over both, and no keepalive: after a page has
// loaded, the only connections left are the WebSockets, which is how the
// test sees which worker holds whom.  `directives`: more lines for the
// rooms location (say, 'rooms_video_slots 1;'); `http`: for the http
// block (say, 'rooms_turn turn:10.99.0.2:3478;' or 'rooms_reminder 15s;').
// The store: the run's SQLite file, or under `make test-pg` the
// PostgreSQL database Scenario.pm made for this suite (ROOMS_E2E_STORE).
export function storeOf(dir) {
  return process.env.ROOMS_E2E_STORE || path.join(dir, 'data/rooms.db');
}

// One query's rows (columns joined by "|"), through sqlite3 or psql.
export function storeQuery(dir, sql) {
  const store = storeOf(dir);
  const out = store.startsWith('postgres')
    ? execFileSync('psql', ['-X', '-q', '-A', '-t', '-d', store, '-c', sql])
    : execFileSync('sqlite3', [store, sql]);
  return out.toString().trim();
}

export async function startNginx(dir, port, { directives = [], http = [],
                                              module = moduleFile } = {}) {
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, `# generated by tests/e2e/lib.mjs
load_module ${module};
worker_processes 2;
master_process on;
daemon off;
error_log ${dir}/logs/error.log info;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
    log_format rooms '$pid $status "$request" $request_time';
    access_log ${dir}/logs/access.log rooms;
    keepalive_timeout 0;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    rooms_zone rooms:1m;
    rooms_store ${storeOf(dir)};
    rooms_media_socket ${dir}/worker.sock;${http.map((d) => '\n    ' + d).join('')}
    server {
        listen 127.0.0.1:${port} reuseport;
        location / {
            rooms;${directives.map((d) => '\n            ' + d).join('')}
        }
        location = /metrics {
            rooms_metrics;
        }
    }
}
`);
  const base = `http://127.0.0.1:${port}/`;
  const child = start('/usr/sbin/nginx',
    ['-p', dir, '-e', path.join(dir, 'logs/error.log'), '-c', conf],
    path.join(dir, 'logs/nginx.out'), 'SIGQUIT');
  const up = await until(async () => {
    if (child.exitStatus !== undefined) return 'exited';
    return (await fetch(base, { signal: AbortSignal.timeout(2000) })).ok;
  }, { timeout: 15000, every: 200 });
  return up === true ? { child, base, port } : null;
}

// The pids of nginx's workers, and which of them holds each established
// connection on the server's port (keyed by the client's port).
export function nginxWorkers(port) {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established',
                                  `( sport = :${port} )`]).toString();
  const byPeer = {};
  for (const line of out.split('\n')) {
    const m = line.match(/:(\d+)\s+users:\(\("nginx",pid=(\d+)/);
    const peer = line.trim().split(/\s+/)[3];
    if (m && peer) byPeer[peer.split(':').pop()] = m[2];
  }
  return byPeer;
}

// The lines of nginx's error log at alert level or worse ([] with no log).
export function logAlerts(file) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return [];
  }
  return text.split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
}

export function tail(file, lines = 60) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch (e) {
    return '(no ' + file + ')';
  }
}

/* ---- the browser ------------------------------------------------------- */

// DESIGN.md §5: fake camera (640x480, 20 fps) and microphone (a beep),
// permissions granted without a prompt, loopback ICE candidates allowed.
export const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];

// Keeps the page's RTCPeerConnections reachable from the test, so it can
// read getStats() without the page exposing its internals.
export function capturePeerConnections() {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
  };
}

// Keeps what the page says and hears on its signaling WebSocket:
// window.__signals = [{dir: 'out'|'in', type, size, msg}] (an offer's or
// answer's SDP is left out of msg; size is the whole message's bytes).
export function captureSignaling() {
  const Native = window.WebSocket;
  window.__signals = [];
  const keep = (dir, data) => {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (e) {
      return;
    }
    const size = new TextEncoder().encode(data).length;
    if (msg && msg.sdp) msg = Object.assign({}, msg, { sdp: undefined });
    window.__signals.push({ dir, type: msg && msg.type, size, msg,
                            at: Date.now() });
  };
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => keep('in', ev.data));
    }
    send(data) {
      keep('out', data);
      return super.send(data);
    }
  };
}

// Counts the page's camera and microphone requests (window.__gum): a
// guest waiting in the lobby must not have made any.
export function countMediaRequests() {
  window.__gum = 0;
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return;
  const native = md.getUserMedia.bind(md);
  md.getUserMedia = (...args) => {
    window.__gum++;
    return native(...args);
  };
}

// In the page: what this participant receives from each other one, by
// name, from the inbound-rtp stats of the current peer connection mapped
// through the last answer's mids (window.roomsState.streams).
export async function receivedInPage() {
  const pc = (window.__pcs || []).at(-1);
  const st = window.roomsState;
  if (!pc || !st || !st.joined) return null;
  const out = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    const bound = st.streams[s.mid];
    if (!bound) return;
    const name = st.participants[String(bound.participant)];
    if (!name) return;
    const r = out[name] = out[name] || { video: [], audio: [] };
    if (s.kind === 'video') r.video.push(s.framesDecoded || 0);
    if (s.kind === 'audio') r.audio.push(s.totalSamplesReceived || 0);
  });
  return out;
}

// In the page: the candidate pair the current peer connection sends and
// receives on (its transport's selected pair, or else the nominated one
// that succeeded), with both candidates: { state, local, remote }, each
// candidate { address, port, protocol, candidateType, tcpType }.
export async function selectedPairInPage() {
  const pc = (window.__pcs || []).at(-1);
  if (!pc) return null;
  const stats = new Map();
  (await pc.getStats()).forEach((s) => stats.set(s.id, s));
  let pair = null;
  for (const s of stats.values()) {
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      pair = stats.get(s.selectedCandidatePairId);
    }
  }
  if (!pair) {
    for (const s of stats.values()) {
      if (s.type === 'candidate-pair' && s.nominated &&
          s.state === 'succeeded') pair = s;
    }
  }
  if (!pair) return null;
  const cand = (id) => {
    const c = stats.get(id) || {};
    return { address: c.address, port: c.port, protocol: c.protocol,
             candidateType: c.candidateType, tcpType: c.tcpType };
  };
  return { state: pair.state, local: cand(pair.localCandidateId),
           remote: cand(pair.remoteCandidateId) };
}

// In the page: what the current peer connection decodes, all streams
// together: { frames, width, height, samples } (video frames decoded and
// the largest frame size, audio samples received).
export async function decodedInPage() {
  const pc = (window.__pcs || []).at(-1);
  if (!pc) return null;
  const r = { frames: 0, width: 0, height: 0, samples: 0 };
  (await pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'video') {
      r.frames += s.framesDecoded || 0;
      r.width = Math.max(r.width, s.frameWidth || 0);
      r.height = Math.max(r.height, s.frameHeight || 0);
    }
    if (s.kind === 'audio') r.samples += s.totalSamplesReceived || 0;
  });
  return r;
}

// `make run` (scripts/run.sh) in dir (RUN_DIR) on free ports, with env
// more (MEDIA_IP, say); resolves to { child, base, port, mediaPort } once
// its page answers, or null.  Its logs are dir/logs/*.log, as a
// scenario's.
export async function startMakeRun(dir, env = {}) {
  const port = await freeTcpPort();
  let mediaPort;
  // ICE-TCP listens on the media port's number too: both must be free
  for (let i = 0; i < 50; i++) {
    mediaPort = await freeUdpPort();
    const free = await new Promise((resolve) => {
      const s = net.createServer();
      s.on('error', () => resolve(false));
      s.listen(mediaPort, () => s.close(() => resolve(true)));
    });
    if (free) break;
  }
  const child = start('sh', [path.join(top, 'scripts/run.sh')],
                      path.join(dir, 'logs/run.out'), 'SIGTERM',
                      { ...process.env, RUN_DIR: dir, PORT: String(port),
                        MEDIA_PORT: String(mediaPort), ...env });
  const base = `http://127.0.0.1:${port}/`;
  const up = await until(async () => {
    if (child.exitStatus !== undefined) return 'exited';
    // each try bounded: a fetch without one once hung the whole run
    // (net-default.t in CI: 120 s, not one request in nginx's log)
    return (await fetch(base, { signal: AbortSignal.timeout(2000) })).ok;
  }, { timeout: 20000, every: 200 });
  return up === true ? { child, base, port, mediaPort } : null;
}

// The candidates the media worker announced (its log's "announced:"
// lines): [{ protocol, address, port }].
export function announced(dir) {
  const log = tail(path.join(dir, 'logs/worker.log'), 400);
  return [...log.matchAll(/announced: (udp|tcp) (\S+) port (\d+)/g)]
    .map((m) => ({ protocol: m[1], address: m[2], port: Number(m[3]) }));
}

/* ---- people in browsers ------------------------------------------------ */

// One person: a browser context of its own (its own localStorage, so its
// own guest token), with a viewport and a locale, page errors and console
// kept for the report.  people[name] = { context, page, errors, console }.
// init: more scripts to run in the page before its own (addInitScript).
export async function openPerson(browser, people, name, url,
                                 { viewport = { width: 1280, height: 800 },
                                   locale = 'en-US',
                                   colorScheme = 'light',
                                   init = [] } = {}) {
  const context = await browser.newContext({ viewport, locale, colorScheme });
  const page = await context.newPage();
  const p = people[name] = { context, page, errors: [], console: [] };
  page.setDefaultTimeout(30000);
  await page.addInitScript(capturePeerConnections);
  for (const fn of init) await page.addInitScript(fn);
  page.on('pageerror', (e) => p.errors.push(String(e)));
  page.on('console', (m) => p.console.push(m.type() + ': ' + m.text()));
  await page.goto(url);
  return page;
}

// The live connections a page holds (issue 13: `/` keeps one): each
// WebSocket and EventSource stream it opens is recorded from here on;
// live() names those still open ("websocket /api/tray/ws"), a stream
// counting as long as the document that opened it is the page's.
export function watchConnections(page) {
  const all = [];
  const doc = (u) => u.split('#')[0];
  page.on('websocket', (ws) => all.push({ kind: 'websocket', url: ws.url(),
                                          ws }));
  page.on('request', (r) => {
    if (r.resourceType() === 'eventsource') {
      all.push({ kind: 'eventsource', url: r.url(), doc: doc(r.frame().url()) });
    }
  });
  return {
    live: () => all.filter((c) => c.ws ? !c.ws.isClosed()
                                        : c.doc === doc(page.url()))
      .map((c) => c.kind + ' ' + new URL(c.url).pathname),
    opened: () => all.map((c) => c.kind + ' ' + new URL(c.url).pathname),
  };
}

// The text of the page's alert (role=alert), or '' when none shows.
export const alertOf = (page) => page.evaluate(() => {
  const a = document.querySelector('[role=alert]');
  return a && !a.hidden ? a.textContent : '';
});

// Types the name and presses Join (in the page's language), as a person
// would; resolves to true once in the call, or to the alert's text if
// the server refused.
export async function joinAs(page, name,
                             { label = 'Your name', button = 'Join',
                               timeout = 20000 } = {}) {
  if (await page.evaluate(() => window.roomsState.joined)) return true;
  await page.getByLabel(label, { exact: true }).fill(name);
  await page.getByRole('button', { name: button, exact: true }).click();
  return until(() => page.evaluate(() => {
    if (window.roomsState.joined) return true;
    const a = document.querySelector('[role=alert]');
    return a && !a.hidden && a.textContent ? a.textContent : false;
  }), { timeout });
}

// The controls on screen that have no accessible name, from Playwright's
// ARIA snapshot (its own accessible-name computation): a line like
// `- button` or `- combobox [disabled]`, with no quoted name.
// The page's own view of the call (window.roomsState), for assertions.
export const roomsState = (page) => page.evaluate(() => window.roomsState);

// A row of the participant list (#people-list) or of the lobby
// (#lobby-list), by the exact name on it.
export const listRow = (page, list, name) => page.locator(list + ' li')
  .filter({ has: page.locator('.pname').getByText(name, { exact: true }) });

// Opens or closes the participant panel (a no-op when it already is).
// The page may still change it by itself just after a resize (a panel it
// opened closes when the window narrows), so the state must hold for a
// moment before it counts.
export async function setPanel(page, open) {
  const toggle = page.locator('#people-toggle');
  const isOpen = async () =>
    (await toggle.getAttribute('aria-expanded')) === 'true';
  await until(async () => {
    if (await isOpen() !== open) await toggle.click();
    await sleep(200);
    return await isOpen() === open;
  }, { timeout: 10000, every: 50 });
}

export const openPanel = (page) => setPanel(page, true);
export const closePanel = (page) => setPanel(page, false);

// What every screen must be: no sideways scrolling, every control named.
export async function checkScreen(page, what) {
  // a resize or a toast may take a few frames to settle
  ok(await until(() => fitsWidth(page), { timeout: 3000, every: 100 }),
     what + ': no sideways scrolling');
  const unnamed = await unnamedControls(page);
  ok(unnamed.length === 0, what + ': every control has an accessible name',
     unnamed.join('\n'));
}

// The addresses of the veth pair a scenario run with { veth => 1 }
// (Scenario.pm) has.
export const vethAddrs = {
  rv0: ['10.99.0.1', 'fd99::1'],
  rv1: ['10.99.0.2', 'fd99::2'],
};

// Chromium for a scenario: fake devices, loopback candidates, and any
// more arguments (a microphone's sound from a file); the signals stay with
// the test, which closes the browser itself.  loopback: false starts it
// as an everyday browser is, without --allow-loopback-in-peer-connection
// (it then gathers and accepts no loopback candidate: the run needs
// Scenario.pm's veth pair).
export async function launchChromium(more = [], { loopback = true } = {}) {
  const { chromium } = await import('playwright-core');
  const base = loopback ? chromiumArgs : chromiumArgs.filter((a) =>
    a !== '--allow-loopback-in-peer-connection');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...base, ...more],
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
  });
}

// A screenshot kept as test output (build/e2e/<name>.png, not committed),
// once the layout has had settleMs to settle.
export async function screenshot(page, name, settleMs = 300) {
  const dir = path.join(top, 'build/e2e');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name + '.png');
  await sleep(settleMs);
  await page.screenshot({ path: file }).catch(() => {});
  diag('screenshot ' + file);
}

// The servers of a scenario: the media worker, then nginx (options as
// startNginx takes them).  Each start is one test; null on a failure, and
// nginx's own failure is the caller's to report.
export async function startServers(dir, nginxOptions) {
  if (!ok(fs.existsSync(workerBinary), 'the media worker is built',
          workerBinary + ' does not exist: build it with `make worker`')) {
    return null;
  }
  const worker = await startWorker(dir, await freeUdpPort());
  if (!ok(worker, 'the media worker starts')) return null;
  return { worker, ngx: await startNginx(dir, await freeTcpPort(),
                                         nginxOptions) };
}

export async function unnamedControls(page) {
  const yaml = await page.locator('body').ariaSnapshot();
  return yaml.split('\n').filter((l) =>
    /^\s*- (button|combobox|textbox|checkbox|link|slider|switch)\b(?!\s+")/
      .test(l));
}

// Nothing wider than the window: no sideways scrolling.
export const fitsWidth = (page) => page.evaluate(() =>
  document.documentElement.scrollWidth <= window.innerWidth);


// The life of one scenario run: its temp folder, a hard deadline, and the
// signals that end it early.  finish() reports (with the logs and each
// page's console when something failed), closes the browser, stops every
// process and exits; it runs once, whoever calls it first.
export function scenarioRun(deadline, getBrowser, people,
                            { allowLog = [] } = {}) {
  const dir = tempDir();
  let finishing = false;
  let timer = null;

  function dumpLogs() {
    diag('--- media worker log (' + dir + '/logs/worker.log)');
    diag(tail(path.join(dir, 'logs/worker.log'), 80));
    diag('--- nginx error log');
    diag(tail(path.join(dir, 'logs/error.log'), 80));
    diag('--- nginx access log');
    diag(tail(path.join(dir, 'logs/access.log'), 20));
    for (const [name, p] of Object.entries(people)) {
      diag('--- ' + name + "'s console");
      diag(p.console.slice(-30).join('\n') || '(empty)');
    }
  }

  async function finish() {
    if (finishing) return;
    finishing = true;
    clearTimeout(timer);
    try {
      const browser = getBrowser();
      if (browser) await browser.close();
    } catch (e) { /* already gone */ }
    await stopAll();
    // what Test::Nginx asserts of each block, over the whole run and its
    // shutdown: nginx logged nothing at alert level or worse, but what the
    // scenario provokes on purpose (allowLog: regular expressions)
    const bad = logAlerts(path.join(dir, 'logs/error.log'))
      .filter((l) => !allowLog.some((re) => re.test(l)));
    ok(bad.length === 0, 'no [alert], [crit] or [emerg] in nginx\'s error log',
       bad.slice(0, 10).join('\n'));
    const passed = done();
    if (!passed) dumpLogs();
    if (passed) {
      fs.rmSync(dir, { recursive: true, force: true });
    } else {
      diag('logs and configuration kept in ' + dir);
    }
    process.exit(passed ? 0 : 1);
  }

  timer = setTimeout(() => {
    ok(false, 'the scenario finished within ' + deadline / 1000 + ' s');
    finish();
  }, deadline);

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(sig, () => {
      ok(false, 'interrupted by ' + sig);
      finish();
    });
  }

  return { dir, finish };
}


// A call of two (Alice hosts, Bob joins by the invite link; other names
// in names) on the server at base, in browser: a test each that the room
// is made, that both join, and that each decodes the other's video
// (frames, and a frame size) and receives audio.  Resolves to each one's
// selected candidate pair (selectedPairInPage) once both do, or null.
export async function callOfTwo(browser, people, base, title,
                                names = ['Alice', 'Bob']) {
  const res = await fetch(base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title }),
  });
  const room = await res.json();
  if (!ok(res.status === 201 && room.invite_url, 'the API creates a room',
          JSON.stringify(room))) {
    return null;
  }
  const urls = { [names[0]]: room.host_url, [names[1]]: room.invite_url };
  for (const name of names) {
    const page = await openPerson(browser, people, name, urls[name]);
    const r = await joinAs(page, name);
    if (!ok(r === true, name + ' joins', 'got: ' + r)) return null;
  }
  const pairs = {};
  let good = true;
  for (const name of names) {
    const page = people[name].page;
    const got = await until(async () => {
      const d = await page.evaluate(decodedInPage);
      return d && d.frames > 10 && d.width > 0 && d.height > 0 &&
             d.samples > 4800 ? d : false;
    }, { timeout: 40000 });
    const last = got || await page.evaluate(decodedInPage);
    good = ok(got, name + ' decodes video and receives audio',
              'last: ' + JSON.stringify(last)) && good;
    if (got) {
      diag(name + ': ' + got.frames + ' frames of ' + got.width + 'x' +
           got.height + ', ' + got.samples + ' audio samples');
    }
    pairs[name] = await page.evaluate(selectedPairInPage);
    diag(name + "'s selected pair: " + JSON.stringify(pairs[name]));
  }
  return good ? pairs : null;
}
