// A node added behind the front moves the calls of its share of rooms
// (issue 17 part 3, docs/scaling.md "Adding a node"): three nodes behind
// a front (nodes-lib.mjs), three headless Chromiums.
//
// A room is created through the front while it lists all three nodes,
// one that the front sends to node 2.  Node 2 is then taken out of the
// front's upstream (its conf written again, the front reloaded), so the
// room goes to another node, A, where a call of two starts (Alice, its
// host, and Bob, made co-host by a host's WebSocket that also bans
// Mallory; the room ends when its hosts are away, after a grace of 2 s).
// Node 2 is added back (the conf again, a reload): the room hashes to it
// once more, while the call runs on A.  Carol joins through the front:
// she lands on node 2.  What a user would notice: Alice and Bob are told
// to move (close 4412) within seconds, join again by themselves through
// the same address, and all three see and hear each other through node
// 2's media worker; Bob is still a co-host, Mallory still banned, the
// code unchanged, and the room did not end when its hosts left A (they
// went to node 2, not away).  Node A says so in its log and its metrics.
//
// Needs a PostgreSQL store (presence goes through it: nodes-add.t starts
// a throwaway cluster).  Prints TAP; run it through nodes-add.t.

import fs from 'node:fs';
import path from 'node:path';
import {
  ok as tapOk, diag, until, scenarioRun, launchChromium, openPerson, joinAs,
  captureSignaling, selectedPairInPage,
} from './lib.mjs';
import {
  addr, base, PORT, api, bearer, cluster, rawOpen, rawGet,
  captureCloses, inPages, checkEnd, runScenario, cohostAndBan,
} from './nodes-lib.mjs';

const DEADLINE = 110000;      // the whole run; only a failing run reaches it
const NODES = 3;
const NEW = 2;                // the node added
const GRACE = 2;              // s: rooms_host_grace on every node

let failed = false;
function ok(cond, name, why) {
  if (!cond) failed = true;
  return tapOk(cond, name, why);
}

let browser = null;
const people = {};            // name -> { context, page, errors, console }
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);
const { nodes, network, startNode, frontConf, startFront, home } =
  cluster(dir, NODES, { http: [`rooms_host_grace ${GRACE}s;`] });
const { closes, welcomes, hearsAndSees } = inPages(people);

const metric = (i, name) => fetch(`http://${addr(i)}:${PORT}/metrics`)
  .then((r) => r.text())
  .then((t) => {
    const m = t.match(new RegExp('^' + name + ' (\\d+)$', 'm'));
    return m ? Number(m[1]) : undefined;
  }).catch(() => undefined);

const mediaOf = async (name) =>
  (await people[name].page.evaluate(selectedPairInPage) || {}).remote?.address;

// the front's upstream becomes the nodes listed, by a reload
async function relist(front, listed, code, want) {
  if (!frontConf(listed)) return false;
  process.kill(front.pid, 'SIGHUP');
  return until(async () => want(await home(code)),
               { timeout: 15000, every: 200 });
}

/* ------------------------------------------------------------------------ */

async function scenario() {
  if (!process.env.ROOMS_TEST_PG) {
    ok(false, 'a PostgreSQL store (nodes-add.t starts one)');
    return;
  }
  if (!ok(await network(), 'three node namespaces, a veth pair each to the ' +
          "front's bridge")) return;
  for (let i = 0; i < NODES; i++) {
    if (!ok(await startNode(i), `node ${i} (${addr(i)}): its media worker ` +
            'and nginx with the module start')) return;
  }
  if (!ok(frontConf(), 'docs/front.conf has the upstream, listen and log ' +
          'lines the test replaces')) return;
  const front = await startFront();
  if (!ok(front, 'the front (stock nginx, no module) serves / through the ' +
          'nodes')) return;

  // a room the front sends to node 2 when it lists it
  let call = null;
  let made = 0;
  for (; made < 40 && !call; made++) {
    const res = await api('', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Room ' + made }),
    });
    const room = await res.json();
    if (res.status !== 201) {
      ok(false, 'the front creates a room', res.status + ' ' +
         JSON.stringify(room));
      return;
    }
    if (await home(room.code) === NEW) call = room;
  }
  if (!ok(call, `a room of node ${NEW} (after ${made} created)`)) return;

  // the room's hosts away for 2 s end it: not when they only moved
  const pr = await api('/' + call.code, {
    method: 'PATCH', headers: { ...bearer(call.host_key),
                                'Content-Type': 'application/json' },
    body: JSON.stringify({ host_absent: 'end' }),
  });
  if (!ok(pr.status === 200, 'the room ends when its hosts are away')) return;

  // node 2 out of the front: the room goes to another node
  let A;
  if (!ok(await relist(front, [0, 1], call.code, (i) => {
    A = i;
    return i !== undefined && i !== NEW;
  }), `without node ${NEW}, the front sends the room elsewhere`)) return;
  diag(`the call's node: ${A} (${addr(A)})`);

  // a call of two on node A
  browser = await launchChromium();
  const urls = { Alice: call.host_url, Bob: call.invite_url,
                 Carol: call.invite_url };
  const join = async (name) => {
    const page = await openPerson(browser, people, name, urls[name],
      { init: [captureSignaling, captureCloses],
        viewport: { width: 640, height: 480 } });
    const j = await joinAs(page, name);
    return ok(j === true, name + ' joins the call through the front',
              'got: ' + j);
  };
  for (const name of ['Alice', 'Bob']) {
    if (!await join(name)) return;
  }
  for (const [name, other] of [['Alice', 'Bob'], ['Bob', 'Alice']]) {
    if (!ok(await until(() => hearsAndSees(name, other), { timeout: 40000 }),
            name + ' sees and hears ' + other)) return;
  }
  ok(await mediaOf('Alice') === addr(A),
     `Alice's media goes to node ${A}'s media worker`);

  // a host's second WebSocket makes Bob co-host and bans Mallory
  const raw = await cohostAndBan(ok, browser, people, call);
  if (!raw) return;
  const { tool, mallory: mw } = raw;

  // ---- node 2 is added back: the room is its again ----
  if (!ok(await relist(front, [0, 1, 2], call.code, (i) => i === NEW),
          `node ${NEW} added to the front: it gets the room back`)) return;
  ok((await closes('Alice')).length === 0 &&
     (await closes('Bob')).length === 0,
  'the call goes on where it is meanwhile (its WebSockets stay on node ' +
     A + ')');

  const t0 = Date.now();
  if (!await join('Carol')) return;
  ok(await until(async () => await mediaOf('Carol') === addr(NEW),
                 { timeout: 20000 }),
  `Carol lands on node ${NEW}`, String(await mediaOf('Carol')));

  // only to stop a hang: presence is written within 1 s and read every 1 s
  for (const name of ['Alice', 'Bob']) {
    if (!ok(await until(async () => (await closes(name)).includes(4412),
                        { timeout: 20000, every: 100 }),
            name + ' is told to move (close 4412)',
            JSON.stringify(await closes(name)))) return;
  }
  diag('told to move ' + (Date.now() - t0) + ' ms after Carol joined (as ' +
       'polled)');

  const everyone = ['Alice', 'Bob', 'Carol'];
  for (const name of everyone) {
    for (const other of everyone.filter((x) => x !== name)) {
      ok(await until(async () => (name === 'Carol' ||
                                  (await welcomes(name)) >= 2) &&
                       hearsAndSees(name, other),
                     { timeout: 40000, every: 250 }),
      `${name} sees and hears ${other}`);
    }
    ok(await until(async () => await mediaOf(name) === addr(NEW),
                   { timeout: 20000 }),
    `${name}'s media goes to node ${NEW}'s media worker`,
    String(await mediaOf(name)));
  }
  diag('all three together on node ' + NEW + ' ' + (Date.now() - t0) +
       ' ms after Carol joined (as polled)');
  ok(!(await closes('Carol')).includes(4412), 'Carol was not moved');

  // durable state, from the store on the new node
  ok(await people.Bob.page.evaluate(() => window.roomsState.role) ===
     'cohost', 'Bob is still a co-host (his key, from the store)');
  ok(await people.Alice.page.evaluate(() => window.roomsState.role) ===
     'host', 'Alice is still the host');
  await rawOpen(tool, 'mallory2', call.code,
                { type: 'join', name: 'Mallory', guest_token: mw.guest_token });
  const ban = await rawGet(tool, 'mallory2', 'error');
  ok(ban && ban.code === 'removed', 'Mallory is still banned on the new node',
     JSON.stringify(ban));

  // node A: the move said and counted; the hosts' leaving is not absence
  const logA = path.join(nodes[A].dir, 'logs/error.log');
  ok(/\[notice\].*room \d+ moved to node \d+: its call there began later/
    .test(fs.readFileSync(logA, 'utf8')), `node ${A} logs the move`);
  ok(await metric(A, 'rooms_calls_moved_total') === 1 &&
     await metric(NEW, 'rooms_calls_moved_total') === 0,
  `node ${A} counts one call moved, node ${NEW} none`,
  `${await metric(A, 'rooms_calls_moved_total')}, ` +
     `${await metric(NEW, 'rooms_calls_moved_total')}`);
  ok(await until(() => /whose call moved to another node/
    .test(fs.readFileSync(logA, 'utf8')), { timeout: 15000 }),
  `node ${A}'s media worker found the room without its hosts after the ` +
     `grace, and node ${A} left it to node ${NEW}`);
  const host = await api('/' + call.code, { headers: bearer(call.host_key) });
  const hj = await host.json();
  ok(host.status === 200 && hj.code === call.code && hj.state === 'open' &&
     hj.host_key === call.host_key, 'the room answers with its code and ' +
     'host key, and did not end', JSON.stringify(hj));
  for (const name of everyone) {
    ok(!(await closes(name)).includes(4403) &&
       await hearsAndSees(name, name === 'Carol' ? 'Alice' : 'Carol'),
    `${name} is still in the call`);
  }

  checkEnd(ok, people, everyone, nodes);
}

runScenario(scenario, ok, () => failed, nodes, finish);
