// The first call: three headless Chromiums (Alice, Bob, Carol) join one
// room through its invite link and see and hear each other through the
// real nginx (2 workers) and the real media worker; then Carol leaves.
// Prints TAP.  Run it through first-call.t, which puts it in a network
// namespace with only `lo` and enforces the hard deadline.

import fs from 'node:fs';
import path from 'node:path';
import {
  top, ok, diag, sleep, until, freeTcpPort, freeUdpPort, startNginx,
  startWorker, stop, workerBinary, nginxWorkers, chromiumArgs,
  capturePeerConnections, receivedInPage, scenarioRun,
  launchChromium,
} from './lib.mjs';

const DEADLINE = 120000;      // the whole run; only a failing run reaches it
const NAMES = ['Alice', 'Bob', 'Carol'];
const shots = path.join(top, 'build/e2e');

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

async function screenshot(name, page, tag) {
  fs.mkdirSync(shots, { recursive: true });
  const file = path.join(shots, 'first-call-' + name.toLowerCase() + '-' +
                         tag + '.png');
  await page.screenshot({ path: file, fullPage: true }).catch(() => {});
  return file;
}

async function open(name, url) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  const p = people[name] = { context, page, errors: [], console: [] };
  page.setDefaultTimeout(30000);
  await page.addInitScript(capturePeerConnections);
  page.on('pageerror', (e) => p.errors.push(String(e)));
  page.on('console', (m) => p.console.push(m.type() + ': ' + m.text()));
  await page.goto(url);
  return page;
}

// Types the name and presses Join, as a person would; resolves to true
// once the page is in the call, or to the alert's text if it was refused.
async function join(name, { timeout = 20000 } = {}) {
  const page = people[name].page;
  // a retry may find the previous try got in after all
  if (await page.evaluate(() => window.roomsState.joined)) return true;
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  return until(() => page.evaluate(() => {
    const alert = document.querySelector('[role=alert]');
    if (window.roomsState.joined) return true;
    if (alert && !alert.hidden && alert.textContent) return alert.textContent;
    return false;
  }), { timeout });
}

const received = (name) => people[name].page.evaluate(receivedInPage);

// every other participant's video is decoded and audio played (at least
// one inbound-rtp each: after a rejoin, an m-line's old stream may still
// have its stats next to the new one)
async function hearsAndSees(name, others) {
  const r = await received(name);
  return r && others.every((o) => r[o] &&
    r[o].video.some((v) => v > 0) && r[o].audio.some((v) => v > 0)) ? r : false;
}

const alertText = (page) => page.evaluate(() => {
  const a = document.querySelector('[role=alert]');
  return a && !a.hidden ? a.textContent : '';
});

/* ------------------------------------------------------------------------ */

// The scenario; it returns early when a step leaves nothing to test after
// it.  An exception (a Playwright timeout, say) is one more failure.
async function scenario() {
  const port = await freeTcpPort();
  const ngx = await startNginx(dir, port);
  if (!ok(ngx, 'nginx starts with the module: 2 workers, reuseport')) {
    return;
  }

  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'First call', activity: 'friends' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201 && room.invite_url, 'the API creates a room',
          JSON.stringify(room))) {
    return;
  }

  browser = await launchChromium();

  // The join form, before the media worker runs: the page answers with
  // media_unavailable's human message.  Alice is the host: she opens the
  // host link (the same page, plus the host's controls).
  {
    const page = await open('Alice', room.host_url);
    ok(await page.getByLabel('Your name').isVisible() &&
       await page.getByRole('button', { name: 'Join', exact: true })
         .isVisible(),
       'the room page asks for "Your name" and has a "Join" button');
    const r = await join('Alice');
    ok(typeof r === 'string' && /media server is not running/.test(r),
       'joining while no media worker runs says so (media_unavailable)',
       'got: ' + r);
    await screenshot('Alice', page, 'no-media-worker');
  }

  if (!ok(fs.existsSync(workerBinary), 'the media worker is built',
          workerBinary + ' does not exist: build it with `make worker`')) {
    return;
  }

  const udpPort = await freeUdpPort();
  const worker = await startWorker(dir, udpPort);
  if (!ok(worker, 'the media worker starts and opens its control socket')) {
    return;
  }

  // nginx's workers reconnect to the media worker on a timer: Alice tries
  // again until she is let in (each try is a real press of Join).
  {
    const r = await until(async () => (await join('Alice', { timeout: 10000 }))
                                      === true, { timeout: 40000, every: 500 });
    ok(r, 'Alice joins once the media worker runs',
       'last alert: ' + await alertText(people.Alice.page));
  }
  for (const name of ['Bob', 'Carol']) {
    await open(name, room.invite_url);
    const r = await join(name);
    ok(r === true, name + ' joins', 'got: ' + r);
  }

  // Spread over both nginx workers: every other connection has closed
  // (keepalive_timeout 0), so the established ones are the WebSockets.
  // Which worker accepts a connection is the kernel's hash (reuseport); if
  // all three landed on one, Carol leaves and joins again (a new connection).
  {
    const pids = async () => {
      await until(() => Object.keys(nginxWorkers(port)).length === 3,
                  { timeout: 10000 });
      return Object.values(nginxWorkers(port));
    };
    let held = await pids();
    for (let i = 0; i < 10 && new Set(held).size < 2; i++) {
      const page = people.Carol.page;
      await page.getByRole('button', { name: 'Leave' }).click();
      await join('Carol');
      held = await pids();
    }
    ok(new Set(held).size === 2 && held.length === 3,
       'the three WebSockets are spread over both nginx workers',
       'worker pids holding connections: ' + held.join(' '));
    diag('WebSockets per nginx worker pid: ' + held.join(' '));
  }

  // Media: each of them decodes the other two's video and plays their audio.
  for (const name of NAMES) {
    const others = NAMES.filter((n) => n !== name);
    const r = await until(() => hearsAndSees(name, others), { timeout: 40000 });
    ok(r, name + ' sees and hears ' + others.join(' and ') +
       ' (inbound-rtp framesDecoded > 0, totalSamplesReceived > 0)',
       'stats: ' + JSON.stringify(await received(name).catch(() => null)) +
       '\nroomsState: ' + JSON.stringify(await people[name].page.evaluate(
         () => window.roomsState)));
    if (r) diag(name + ' receives ' + JSON.stringify(r));
  }

  // Negotiate only what the worker honours: the answer the browser holds
  // names no feedback the worker does not send or answer (feedback that
  // never comes keeps Chromium's estimate at its floor): transport-cc and
  // its extension (the worker sends transport feedback on what it
  // receives, and reads the browser's on what it sends), NACK, PLI, FIR;
  // no goog-remb at all.
  for (const name of NAMES) {
    const bad = await people[name].page.evaluate(() => {
      const pc = (window.__pcs || []).at(-1);
      const sdp = (pc && pc.remoteDescription && pc.remoteDescription.sdp) || '';
      const fb = /^a=rtcp-fb:\d+ (nack|nack pli|ccm fir)$/;
      const ext = /^a=extmap:\d+ (urn:ietf:params:rtp-hdrext:(sdes:mid|ssrc-audio-level|sdes:rtp-stream-id|sdes:repaired-rtp-stream-id)|http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/abs-send-time)$/;
      const twcc = /^a=(rtcp-fb:\d+ transport-cc|extmap:\d+ http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01)$/;
      const out = [];
      let lines = 0;
      for (const section of sdp.split('\r\nm=').slice(1)) {
        const ls = section.split('\r\n');
        for (const l of ls.filter((x) => /^a=(rtcp-fb|extmap):/.test(x))) {
          lines++;
          if (!(fb.test(l) || ext.test(l) || twcc.test(l))) {
            out.push(l);
          }
        }
      }
      return lines ? out : ['(no a=rtcp-fb or a=extmap at all)'];
    });
    ok(bad.length === 0, name + "'s answer names only feedback and " +
       'extensions the worker honours', 'not honoured: ' + bad.join(', '));
  }

  for (const name of NAMES) {
    const others = NAMES.filter((n) => n !== name);
    const captions = await people[name].page
      .locator('[data-participant] figcaption .name').allTextContents();
    ok(others.every((o) => captions.includes(o)) && captions.length === 2,
       name + "'s page shows a tile for each other participant, with the name",
       'captions: ' + captions.join(', '));
  }

  for (const name of NAMES) {
    diag('screenshot ' + await screenshot(name, people[name].page, '1280x800'));
  }
  {
    const page = people.Alice.page;
    await page.setViewportSize({ width: 360, height: 640 });
    await sleep(500);                    // let the grid reflow
    diag('screenshot ' + await screenshot('Alice', page, '360x640'));
    const fits = await page.evaluate(() =>
      document.documentElement.scrollWidth <= window.innerWidth);
    ok(fits, 'the call fits a 360x640 phone screen without sideways scrolling');
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  // Carol leaves: the other two see her go and keep decoding each other.
  {
    const page = people.Carol.page;
    await page.getByRole('button', { name: 'Leave' }).click();
    ok(await until(() => page.getByRole('status').textContent()
                   .then((t) => t.includes('You left the room.'))),
       'Carol leaves and her page says "You left the room."');
    const stopped = await page.evaluate(() => !window.roomsState.joined);
    ok(stopped, "Carol's page is out of the call");
  }
  for (const name of ['Alice', 'Bob']) {
    const page = people[name].page;
    const gone = await until(async () =>
      (await page.locator('[data-participant]', { hasText: 'Carol' }).count())
        === 0 &&
      await page.evaluate(() =>
        !Object.values(window.roomsState.participants).includes('Carol')));
    ok(gone, name + ' sees Carol leave (her tile is gone)');
  }
  for (const [name, other] of [['Alice', 'Bob'], ['Bob', 'Alice']]) {
    const before = await received(name);
    const b = before && before[other];
    const r = b && await until(async () => {
      const now = (await received(name))[other];
      return now && Math.max(...now.video) > Math.max(...b.video) + 10 &&
             Math.max(...now.audio) > Math.max(...b.audio) ? now : false;
    }, { timeout: 20000, every: 1000 });
    ok(r, name + ' keeps decoding ' + other + ' after Carol left',
       'before: ' + JSON.stringify(b) + ' after: ' +
       JSON.stringify(await received(name).catch(() => null)));
  }

  // The media worker is killed (SIGKILL: no goodbye on its sockets) and
  // starts again: nginx closes every WebSocket with 1012, the pages join
  // again by themselves, and Alice and Bob see each other again.
  {
    const ids = {};
    for (const name of ['Alice', 'Bob']) {
      ids[name] = await people[name].page.evaluate(() => window.roomsState.id);
    }
    worker.kill('SIGKILL');
    await worker.exited;
    const again = await startWorker(dir, udpPort);
    ok(again, 'the media worker starts again');
    for (const [name, other] of [['Alice', 'Bob'], ['Bob', 'Alice']]) {
      const page = people[name].page;
      const back = await until(() => page.evaluate((old) =>
        window.roomsState.joined && window.roomsState.id !== old,
      ids[name]), { timeout: 40000 });
      const r = back && await until(() => hearsAndSees(name, [other]),
                                    { timeout: 40000 });
      ok(r, name + ' is back in the call by itself after the media worker ' +
         'restarted, and sees and hears ' + other,
         'roomsState: ' + JSON.stringify(await page.evaluate(
           () => window.roomsState)) + '\nalert: ' + await alertText(page));
    }
  }

  // Refusals come from the server with a reason the page turns into words:
  // Alice, the host, locks the room from her page during the call, and
  // Carol cannot come back.
  {
    const page = people.Alice.page;
    await page.getByRole('button', { name: 'Lock room' }).click();
    const locked = await until(async () =>
      (await page.getByRole('button', { name: 'Unlock room' }).count()) === 1 &&
      (await (await fetch(ngx.base + 'api/rooms/' + room.code)).json()).locked);
    ok(locked, "the host's Lock room button locks the room during the call");
    ok(await page.evaluate(() => window.roomsState.joined),
       'the host is still in the call');
    const again = await join('Carol');
    ok(typeof again === 'string' && /locked/.test(again),
       'once the host locks the room, Carol is told it is locked',
       'got: ' + again);
  }

  // A room that opens tomorrow says when; Carol follows its invite link.
  // Her Join waits for the start (schedule.js; tests/e2e/schedule.t sees
  // it join); a join the server gets before the start is refused
  // not_started, with the time.
  {
    const opens = new Date(Date.now() + 86400000);
    opens.setUTCMilliseconds(0);
    const r = await fetch(ngx.base + 'api/rooms', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ start_at: opens.toISOString() }),
    });
    const later = await r.json();
    const page = people.Carol.page;
    await page.goto(later.invite_url);
    const expected = 'Opens ' + await page.evaluate(
      (iso) => new Date(iso).toLocaleString(), opens.toISOString());
    const said = await page.locator('#schedule .opens').textContent();
    ok(said === expected, 'a room that opens tomorrow says when it opens',
       'got: ' + said + '\nexpected: ' + expected);
    await page.getByLabel('Your name').fill('Carol');
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    ok(await until(async () => (await page.locator('#status').textContent())
      === 'You will join by yourself when the room opens.'),
       'Join before it opens: the page will join by itself at the start');
    const refused = await page.evaluate((code) => new Promise((done) => {
      const ws = new WebSocket(new URL('../api/rooms/' + code + '/ws',
        location.href).href.replace(/^http/, 'ws'));
      ws.onopen = () => ws.send(JSON.stringify({ type: 'join',
                                                 name: 'Early' }));
      ws.onmessage = (ev) => done(JSON.parse(ev.data));
      ws.onclose = () => done(null);
    }), later.code);
    ok(refused && refused.code === 'not_started' &&
       refused.start_at === opens.toISOString().replace('.000', ''),
       'a join before the start is refused not_started, with its time',
       JSON.stringify(refused));
  }

  for (const name of NAMES) {
    ok(people[name].errors.length === 0, name + "'s page threw no errors",
       people[name].errors.join('\n'));
  }

  // The access log has the WebSocket requests once they have closed.
  for (const name of NAMES) await people[name].context.close();
  await sleep(1000);
  {
    const lines = fs.readFileSync(path.join(dir, 'logs/access.log'), 'utf8')
      .split('\n').filter((l) => l.includes('/ws '));
    const pids = new Set(lines.map((l) => l.split(' ')[0]));
    diag('WebSocket requests in the access log: ' + lines.length +
         ', by nginx worker pids ' + [...pids].join(' '));
  }

  // The metrics page after the call (README "Monitoring"; t/030 parses it
  // with a real Prometheus parser): once every WebSocket is gone and the
  // media worker's next STATS record has come.
  {
    let text = '';
    const value = (name) => {
      const line = text.split('\n').find((l) => l.startsWith(name + ' '));
      return line === undefined ? NaN : Number(line.slice(name.length + 1));
    };
    await until(async () => {
      text = await (await fetch(ngx.base + 'metrics')).text();
      return value('rooms_websocket_connections') === 0 &&
             value('rooms_media_participants') === 0;
    }, { timeout: 15000, every: 500 });
    diag('GET /metrics after the call:\n' + text.trimEnd());
    ok(value('rooms_websocket_connections') === 0 &&
       value('rooms_media_participants') === 0 &&
       value('rooms_participants') === 0,
       '/metrics: no WebSocket and nobody in a call once the pages closed');
    ok(value('rooms_joins_total') >= 5,
       '/metrics: the joins (3, and 2 again after the media worker restarted)');
    ok(value('rooms_join_refusals_total{reason="locked"}') >= 1 &&
       value('rooms_join_refusals_total{reason="not_started"}') >= 1,
       '/metrics: the refusals the pages showed (locked, not_started)');
    ok(value('rooms_host_actions_total{kind="lock"}') === 1,
       "/metrics: the host's lock");
    ok(value('rooms_media_link_reconnects_total') === 2,
       '/metrics: both nginx workers linked again to the restarted worker');
    // (the media worker's totals count from its restart on)
    ok(value('rooms_media_packets_received_total{kind="rtp"}') > 100 &&
       value('rooms_media_packets_forwarded_total') > 100,
       '/metrics: the restarted media worker received and forwarded media');
  }
}

scenario().then(finish, (e) => {
  // while finishing, the browser closes under whatever was still running
  if (!finishing) ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
