// Several nodes behind a stock nginx (issue 17 part 3, docs/scaling.md):
// three nodes behind a front (nodes-lib.mjs), two headless Chromiums.
//
// Rooms are created through the front, until every node has some; one
// gets a call of two (Alice, its host, and Bob, made co-host by a host's
// WebSocket that also bans Mallory); every other room's invite link is
// rotated.  The call's node is drained (nginx -s quit and SIGQUIT to its
// media worker).  What a user would notice: both pages are told to move
// (close 4412), join again by themselves through the same address, and
// see and hear each other again, now through another node; Bob is still
// a co-host and Mallory is still banned; every room created before
// answers through the front with its current code (the rotated ones' old
// codes 410) and its host key; only the drained node's rooms moved.
//
// Prints TAP; run it through nodes.t.

import path from 'node:path';
import {
  ok as tapOk, diag, until, scenarioRun, launchChromium, openPerson, joinAs,
  tail, captureSignaling, selectedPairInPage,
} from './lib.mjs';
import {
  addr, base, PORT, STORE, api, bearer, cluster, rawOpen, rawGet,
  captureCloses, inPages, checkEnd, runScenario, cohostAndBan,
} from './nodes-lib.mjs';

const DEADLINE = 110000;      // the whole run; only a failing run reaches it
const NODES = 3;

let failed = false;
function ok(cond, name, why) {
  if (!cond) failed = true;
  return tapOk(cond, name, why);
}

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);
const { nodes, network, startNode, frontConf, startFront, home, trays } =
  cluster(dir, NODES);
const { closes, welcomes, frames, hearsAndSees } = inPages(people);

/* ------------------------------------------------------------------------ */

async function scenario() {
  diag('store: ' + (STORE ? 'PostgreSQL' : 'SQLite (one file)'));
  if (!ok(await network(), 'three node namespaces, a veth pair each to the ' +
          "front's bridge")) return;
  for (let i = 0; i < NODES; i++) {
    if (!ok(await startNode(i), `node ${i} (${addr(i)}): its media worker ` +
            'and nginx with the module start')) return;
  }
  const conf = frontConf();
  if (!ok(conf, 'docs/front.conf has the upstream, listen and log lines ' +
          'the test replaces')) return;
  if (!ok(await startFront(), 'the front (stock nginx, no module) serves / ' +
          'through the nodes')) return;

  // rooms through the front until every node has two
  const rooms = [];
  let per = [];
  for (let k = 0; k < 40; k++) {
    const res = await api('', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Room ' + k }),
    });
    const room = await res.json();
    if (res.status !== 201) {
      ok(false, 'the front creates a room', res.status + ' ' +
         JSON.stringify(room));
      return;
    }
    room.node = await home(room.code);
    rooms.push(room);
    per = nodes.map((n, i) => rooms.filter((r) => r.node === i).length);
    if (per.every((c) => c >= 2)) break;
  }
  ok(per.every((c) => c >= 2), `${rooms.length} rooms created through the ` +
     `front, spread over the nodes by code: ${per.join(', ')}`);

  // the call's room, and the others' links rotated (a write on its node;
  // the node that made the room may cache it: it must not serve it later)
  const call = rooms[0];
  for (const r of rooms.slice(1)) {
    const res = await api('/' + r.code + '/invite',
                          { method: 'POST', headers: bearer(r.host_key) });
    const j = await res.json();
    if (!ok(res.status === 200 && j.code && j.code !== r.code,
            'room ' + r.code + ': its invite link is rotated',
            res.status + ' ' + JSON.stringify(j))) return;
    r.old = r.code;
    r.code = j.code;
  }
  for (const r of rooms) r.node = await home(r.code);
  diag('rooms per node before the drain: ' + nodes.map((x, i) =>
    rooms.filter((r) => r.node === i).length).join(', '));

  // the call's room is public: every node's tray may list it
  const pr = await api('/' + call.code, {
    method: 'PATCH', headers: { ...bearer(call.host_key),
                                'Content-Type': 'application/json' },
    body: JSON.stringify({ audience: 'public' }),
  });
  if (!ok(pr.status === 200, 'the call\'s room is made public')) return;

  // a call of two on the call's node
  browser = await launchChromium();
  const names = ['Alice', 'Bob'];
  const urls = { Alice: call.host_url, Bob: call.invite_url };
  for (const name of names) {
    const page = await openPerson(browser, people, name, urls[name],
      { init: [captureSignaling, captureCloses],
        viewport: { width: 640, height: 480 } });
    const j = await joinAs(page, name);
    if (!ok(j === true, name + ' joins the call through the front',
            'got: ' + j)) return;
  }
  for (const [name, other] of [['Alice', 'Bob'], ['Bob', 'Alice']]) {
    if (!ok(await until(() => hearsAndSees(name, other), { timeout: 40000 }),
            name + ' sees and hears ' + other)) return;
  }
  const N = await home(call.code);
  diag(`the call is on node ${N} (${addr(N)})`);
  const pairBefore = await people.Alice.page.evaluate(selectedPairInPage);
  ok(pairBefore && pairBefore.remote.address === addr(N),
     "Alice's media goes to that node's media worker",
     JSON.stringify(pairBefore));

  // presence through the store (PostgreSQL): a tray served by any node
  // lists the call, with its two people
  if (STORE) {
    const t = await until(async () => {
      const seen = await trays(call.code, []);
      return seen.every((c) => c === 2) ? seen : false;
    }, { timeout: 15000, every: 250 });
    ok(t, 'the tray of every node lists the call with its 2 people',
       JSON.stringify(await trays(call.code, [])));
  }

  // a host's second WebSocket makes Bob co-host and bans Mallory
  const raw = await cohostAndBan(ok, browser, people, call);
  if (!raw) return;
  const { tool, mallory: mw } = raw;

  // ---- the call's node is drained ----
  const n = nodes[N];
  const t0 = Date.now();
  process.kill(n.ngx.pid, 'SIGQUIT');            // nginx -s quit
  process.kill(n.worker.pid, 'SIGQUIT');         // the media worker drains

  for (const name of names) {
    ok(await until(async () => (await closes(name)).includes(4412),
                   { timeout: 10000, every: 100 }),
       name + ' is told to move (close 4412)',
       JSON.stringify(await closes(name)));
  }
  for (const [name, other] of [['Alice', 'Bob'], ['Bob', 'Alice']]) {
    // a new peer connection: its own frames, from its new node
    const back = await until(async () => (await welcomes(name)) >= 2 &&
      (await hearsAndSees(name, other)) &&
      (await frames(name, other)) > 20 &&
      (await people[name].page.evaluate(selectedPairInPage) || {})
        .remote?.address !== addr(N), { timeout: 40000, every: 250 });
    ok(back, name + ' joins again by itself and sees ' + other + ' again, ' +
       'through another node');
  }
  diag('the call was back ' + (Date.now() - t0) + ' ms after the drain (as ' +
       'polled)');
  const M = await home(call.code);
  ok(M !== undefined && M !== N, `the front sent the room's requests to ` +
     `node ${M} after the drain`);
  const pairAfter = await people.Alice.page.evaluate(selectedPairInPage);
  ok(pairAfter && pairAfter.remote.address === addr(M),
     "Alice's media goes to that node's media worker now",
     JSON.stringify(pairAfter));
  ok(await people.Bob.page.evaluate(() => window.roomsState.role) ===
     'cohost', 'Bob is still a co-host (his key, from the store)');
  if (STORE) {
    // the drained node's rows went as it stopped, not at their expiry
    const t = await until(async () => {
      const seen = await trays(call.code, [N]);
      return seen.every((c) => c === 2) ? seen : false;
    }, { timeout: 10000, every: 250 });
    ok(t, 'the tray of every node left lists the call on its new node, ' +
       'with its 2 people', JSON.stringify(await trays(call.code, [N])));
  }
  ok(await people.Alice.page.evaluate(() => window.roomsState.role) ===
     'host', 'Alice is still the host');
  await rawOpen(tool, 'mallory2', call.code,
                { type: 'join', name: 'Mallory', guest_token: mw.guest_token });
  const ban = await rawGet(tool, 'mallory2', 'error');
  ok(ban && ban.code === 'removed', 'Mallory is still banned on the new node',
     JSON.stringify(ban));

  // ---- every room still answers ----
  let good = 0;
  const bad = [];
  for (const r of rooms) {
    const pub = await api('/' + r.code);
    const host = await api('/' + r.code, { headers: bearer(r.host_key) });
    const hj = await host.json();
    const old = r.old ? (await api('/' + r.old)).status : 410;
    const patch = await api('/' + r.code, {
      method: 'PATCH', headers: { ...bearer(r.host_key),
                                  'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Still ' + r.code.slice(0, 4) }),
    });
    if (pub.status === 200 && host.status === 200 &&
        hj.host_key === r.host_key && old === 410 && patch.status === 200) {
      good++;
    } else {
      bad.push(JSON.stringify({ code: r.code, pub: pub.status,
        host: host.status, old, patch: patch.status }));
    }
  }
  ok(good === rooms.length, `every room answers through the front with its ` +
     `code and host key, its old code 410, a host's change stored ` +
     `(${good} of ${rooms.length})`, bad.join('\n'));
  // and so does each node left, asked directly: a node that made a room
  // (creation goes to any node) and cached it must not serve its old code
  // after the rotation its home node stored
  const wrong = [];
  for (const [i, nd] of nodes.entries()) {
    if (i === N) continue;
    for (const r of rooms.filter((x) => x.old)) {
      const at = (c) => fetch(`http://${addr(i)}:${PORT}/api/rooms/${c}`)
        .then((x) => x.status);
      const [o, c] = [await at(r.old), await at(r.code)];
      if (o !== 410 || c !== 200) wrong.push(`node ${i}: ${r.old} ${o}, ${r.code} ${c}`);
    }
  }
  ok(wrong.length === 0, 'every node left answers each rotated room\'s old ' +
     'code 410 and its new one 200, asked directly', wrong.join('\n'));
  for (const r of rooms) r.after = await home(r.code);
  const stayed = rooms.filter((r) => r.node !== N)
    .filter((r) => r.after === r.node).length;
  const moved = rooms.filter((r) => r.node === N)
    .filter((r) => r.after !== undefined && r.after !== N).length;
  ok(stayed === rooms.filter((r) => r.node !== N).length,
     `the other nodes' rooms stayed where they were (${stayed})`);
  ok(moved === rooms.filter((r) => r.node === N).length,
     `the drained node's rooms moved (${moved})`);

  // the drained node stopped by itself: nginx once its WebSockets closed,
  // the media worker once nobody was left
  ok(await until(() => n.ngx.exitStatus !== undefined &&
                       n.worker.exitStatus !== undefined,
                 { timeout: 40000, every: 200 }),
     'the drained node\'s nginx and media worker have exited',
     JSON.stringify({ ngx: n.ngx.exitStatus, worker: n.worker.exitStatus }));
  ok(/drained: 0 participants left/.test(tail(path.join(n.dir,
    'logs/worker.log'), 40)), 'its media worker says it drained with ' +
     'nobody left');

  checkEnd(ok, people, names, nodes);
}

runScenario(scenario, ok, () => failed, nodes, finish);
