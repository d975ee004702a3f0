// A call through TURN (README "Networks"): in the test's network
// namespace, a veth pair gives the media worker an address that is not
// loopback (10.99.0.1) and coturn another (10.99.0.2); Debian's
// turnserver runs with a configuration written here (the TURN REST
// shared secret of rooms_turn_secret); an nftables rule drops every UDP
// datagram to the media worker's port that coturn's own user
// (turnserver) did not send (and TCP to that port, so that ICE over TCP
// is no way round), so the browsers can reach the worker only through
// coturn's relay.  Chromium runs WITHOUT
// --allow-loopback-in-peer-connection.  Alice's page is forced to
// iceTransportPolicy "relay" and the TURN URL over TCP; Bob's gathers
// everything and finds that only the relay (over UDP) gets through.  Both must decode each other's video and
// audio; Alice's selected candidate pair's local candidate is a relay,
// coturn says it allocated for the usernames the welcomes carried, and
// the rule's counter shows the browsers' own UDP to the worker was
// dropped.  Asked directly (a small TURN client below), coturn grants a
// permission for the media worker and refuses any other peer (403), and
// refuses an expired credential and one signed with another secret
// (401).  Prints TAP; run it through turn.t.

import fs from 'node:fs';
import path from 'node:path';
import dgram from 'node:dgram';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  ok, diag, until, freeTcpPort, freeUdpPort, startNginx, start, workerBinary, chromiumArgs, receivedInPage, scenarioRun,
  openPerson, joinAs, tail,
} from './lib.mjs';

const DEADLINE = 120000;
const WORKER_IP = '10.99.0.1';
const TURN_IP = '10.99.0.2';
const TURN_PORT = 3478;
const SECRET = 'e2e-turn-secret-' + Math.random().toString(36).slice(2);
const NAMES = ['Alice', 'Bob'];

let browser = null;
const people = {};
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

const sh = (cmd, args) => execFileSync(cmd, args, { stdio: 'pipe' })
  .toString();

// Alice's page: every RTCPeerConnection relay-only, and through the TURN
// URLs over TCP alone, as a browser on a network that lets only TCP out
// would end up
function relayOnly() {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config = {}, ...rest) {
      const iceServers = (config.iceServers || []).map((s) =>
        Object.assign({}, s, { urls: [].concat(s.urls)
          .filter((u) => /\?transport=tcp$/.test(u)) }));
      super(Object.assign({}, config, { iceServers,
                                        iceTransportPolicy: 'relay' }),
            ...rest);
    }
  };
}

// The page's selected candidate pair: its local and remote candidates.
function selectedPair() {
  const pc = (window.__pcs || []).at(-1);
  if (!pc) return null;
  return pc.getStats().then((stats) => {
    let pair = null;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        pair = stats.get(s.selectedCandidatePairId);
      }
    });
    if (!pair) return null;
    const l = stats.get(pair.localCandidateId) || {};
    const r = stats.get(pair.remoteCandidateId) || {};
    return {
      state: pair.state,
      local: { type: l.candidateType, protocol: l.protocol,
               address: l.address, relayProtocol: l.relayProtocol,
               url: l.url },
      remote: { type: r.candidateType, protocol: r.protocol,
                address: r.address, port: r.port },
    };
  });
}

async function hearsAndSees(name, others) {
  const r = await people[name].page.evaluate(receivedInPage);
  return r && others.every((o) => r[o] &&
    r[o].video.some((v) => v > 0) && r[o].audio.some((v) => v > 0)) ? r : false;
}

// One UDP datagram from this process (root, as the browsers) to the
// worker: the rule refuses it at once (sendto fails EPERM).
function sendOne(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.send(Buffer.from('probe'), port, WORKER_IP, (err) => {
      s.close();
      resolve(err ? err.code : 'sent');
    });
  });
}

// the number of packets the drop rule has counted
function dropped() {
  const out = sh('nft', ['list', 'chain', 'inet', 'rooms_turn', 'out']);
  const m = out.match(/counter packets (\d+)/);
  return m ? Number(m[1]) : -1;
}

/* ---- a minimal TURN client (RFC 5766), to ask coturn directly ------------ */

const MAGIC = 0x2112a442;

// A STUN message: type, a fresh transaction id, [type, value] attributes,
// and MESSAGE-INTEGRITY with key when given (RFC 5389 15.4).
function stunMessage(type, attrs, key) {
  const tid = crypto.randomBytes(12);
  const body = [];
  for (const [t, v] of attrs) {
    const a = Buffer.alloc(4 + v.length + ((4 - v.length % 4) % 4));
    a.writeUInt16BE(t, 0);
    a.writeUInt16BE(v.length, 2);
    v.copy(a, 4);
    body.push(a);
  }
  const head = (len) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(MAGIC, 4);
    tid.copy(h, 8);
    return h;
  };
  let msg = Buffer.concat([head(0), ...body]);
  if (key) {
    const len = msg.length - 20 + 24;
    msg = Buffer.concat([head(len), ...body]);
    const mac = crypto.createHmac('sha1', key).update(msg).digest();
    const mi = Buffer.alloc(4);
    mi.writeUInt16BE(0x0008, 0);
    mi.writeUInt16BE(20, 2);
    msg = Buffer.concat([msg, mi, mac]);
  } else {
    msg.writeUInt16BE(msg.length - 20, 2);
  }
  return msg;
}

// The answer's type, error code (0: none) and attributes by type.
function stunParse(buf) {
  const out = { type: buf.readUInt16BE(0), code: 0, attrs: {} };
  for (let i = 20; i + 4 <= buf.length;) {
    const t = buf.readUInt16BE(i);
    const l = buf.readUInt16BE(i + 2);
    const v = buf.subarray(i + 4, i + 4 + l);
    out.attrs[t] = v;
    if (t === 0x0009) out.code = v[2] * 100 + v[3];
    i += 4 + l + ((4 - l % 4) % 4);
  }
  return out;
}

// One request to coturn over UDP, its parsed answer (null: none in 3 s).
function turnAsk(sock, msg) {
  return new Promise((resolve) => {
    const done = (m) => {
      clearTimeout(timer);
      sock.off('message', on);
      resolve(m);
    };
    const on = (m) => done(stunParse(m));
    const timer = setTimeout(() => done(null), 3000);
    sock.on('message', on);
    sock.send(msg, TURN_PORT, TURN_IP);
  });
}

const xorPeer = (ip, port) => {
  const v = Buffer.alloc(8);
  v[1] = 0x01;
  v.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const a = ip.split('.').map(Number);
  v.writeUInt32BE((((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) ^
                   MAGIC) >>> 0, 4);
  return v;
};

// An allocation with user and pass, then a permission for each peer:
// { allocate: its error code (0: allocated), peers: { ip: code } }.
async function turnTry(user, pass, peers = []) {
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, r));
  const udp = Buffer.from([17, 0, 0, 0]);            // REQUESTED-TRANSPORT
  const out = { allocate: -1, peers: {} };
  try {
    const first = await turnAsk(sock, stunMessage(0x0003, [[0x0019, udp]]));
    if (!first || first.code !== 401) return out;
    const realm = first.attrs[0x0014];
    const nonce = first.attrs[0x0015];
    const key = crypto.createHash('md5')
      .update(user + ':' + realm.toString() + ':' + pass).digest();
    const auth = [[0x0006, Buffer.from(user)], [0x0014, realm],
                  [0x0015, nonce]];
    const alloc = await turnAsk(sock, stunMessage(0x0003,
      [[0x0019, udp], ...auth], key));
    out.allocate = alloc ? alloc.code : -1;
    if (out.allocate !== 0) return out;
    for (const ip of peers) {
      const r = await turnAsk(sock, stunMessage(0x0008,
        [[0x0012, xorPeer(ip, 9)], ...auth], key));
      out.peers[ip] = r ? r.code : -1;
    }
    return out;
  } finally {
    sock.close();
  }
}

// what nginx mints (README "Networks"), here from the test's own clock
function credential(expiry, id, secret = SECRET) {
  const user = expiry + ':' + id;
  return [user, crypto.createHmac('sha1', secret).update(user)
                  .digest('base64')];
}

async function scenario() {
  // the addresses: a veth pair, both ends here
  try {
    sh('ip', ['link', 'add', 'rooms0', 'type', 'veth', 'peer', 'name',
              'rooms1']);
    sh('ip', ['addr', 'add', WORKER_IP + '/24', 'dev', 'rooms0']);
    sh('ip', ['addr', 'add', TURN_IP + '/24', 'dev', 'rooms1']);
    sh('ip', ['link', 'set', 'rooms0', 'up']);
    sh('ip', ['link', 'set', 'rooms1', 'up']);
    // until the link-local addresses leave DAD: a change after Chromium
    // starts aborts the page's loads (net::ERR_NETWORK_CHANGED)
    await until(() => sh('ip', ['-6', 'addr', 'show', 'tentative']) === '',
                { timeout: 10000, every: 100 });
  } catch (e) {
    ok(false, 'a veth pair with ' + WORKER_IP + ' and ' + TURN_IP,
       String(e.stderr || e));
    return;
  }
  ok(true, 'a veth pair with ' + WORKER_IP + ' and ' + TURN_IP);

  const udpPort = await freeUdpPort();
  const turnUid = sh('id', ['-u', 'turnserver']).trim();

  // every UDP datagram to the media worker's port is dropped unless
  // coturn (its user, turnserver) sent it; TCP to that port too, so that
  // ICE over TCP to the media worker (when it offers it) is no way round
  try {
    sh('nft', ['add', 'table', 'inet', 'rooms_turn']);
    sh('nft', ['add', 'chain', 'inet', 'rooms_turn', 'out',
               '{ type filter hook output priority 0; policy accept; }']);
    sh('nft', ['add', 'rule', 'inet', 'rooms_turn', 'out', 'meta', 'l4proto',
               '{', 'tcp,', 'udp', '}', 'th', 'dport', String(udpPort),
               'meta', 'skuid', '!=', turnUid, 'counter', 'drop']);
  } catch (e) {
    ok(false, 'the nftables rule', String(e.stderr || e));
    return;
  }
  ok(true, 'nftables drops UDP and TCP to the media worker (port ' +
     udpPort + ') from every user but turnserver');
  {
    const r = await sendOne(udpPort);
    ok(r === 'EPERM', 'a datagram from root (as the browsers) to the ' +
       'media worker is refused', 'got: ' + r);
  }

  // coturn, with the shared secret of rooms_turn_secret
  const conf = path.join(dir, 'turnserver.conf');
  fs.writeFileSync(conf, [
    'listening-ip=' + TURN_IP,
    'relay-ip=' + TURN_IP,
    'listening-port=' + TURN_PORT,
    'min-port=49152',
    'max-port=49407',
    'use-auth-secret',
    'static-auth-secret=' + SECRET,
    'realm=rooms.test',
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-cli',
    'no-rfc5780',
    // as README "Networks" says: relay to the media worker and nowhere else
    'no-multicast-peers',
    'denied-peer-ip=0.0.0.0-255.255.255.255',
    'denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    'allowed-peer-ip=' + WORKER_IP,
    'no-stun-backward-compatibility',
    'proc-user=turnserver',
    'proc-group=turnserver',
    'log-file=' + path.join(dir, 'logs/turnserver.log'),
    'simple-log',
    'no-stdout-log',
    'verbose',
    'pidfile=' + path.join(dir, 'logs/turnserver.pid'),
    'userdb=' + path.join(dir, 'logs/turndb'),
    '',
  ].join('\n'));
  fs.chmodSync(dir + '/logs', 0o777);
  const turn = start('/usr/bin/turnserver', ['-c', conf],
                     path.join(dir, 'logs/turnserver.out'));
  const turnUp = await until(() => {
    if (turn.exitStatus !== undefined) return 'exited';
    return / (udp|UDP).*listener opened on *: *10\.99\.0\.2:3478/i
      .test(tail(path.join(dir, 'logs/turnserver.log'), 400)) ||
      sh('ss', ['-Hlun', 'sport = :' + TURN_PORT]).includes(TURN_IP);
  }, { timeout: 15000, every: 200 });
  if (!ok(turnUp === true, 'turnserver runs on ' + TURN_IP + ':' + TURN_PORT,
          tail(path.join(dir, 'logs/turnserver.log'), 30) + '\n' +
          tail(path.join(dir, 'logs/turnserver.out'), 30))) {
    return;
  }

  if (!ok(fs.existsSync(workerBinary), 'the media worker is built')) return;
  // bound to its address: a wildcard socket would answer coturn's relay
  // (on this same host) from 10.99.0.2, which coturn has no permission for
  const sock = path.join(dir, 'worker.sock');
  const worker = start(workerBinary,
    ['--udp-port', String(udpPort), '--announce-ip', WORKER_IP,
     '--bind-ip', WORKER_IP, '--control', sock, '--log-level', 'debug',
     '--socket-user', 'nobody'],
    path.join(dir, 'logs/worker.log'));
  const workerUp = await until(() => worker.exitStatus === undefined
                               ? fs.existsSync(sock) : 'exited',
                               { timeout: 15000, every: 100 });
  if (!ok(workerUp === true, 'the media worker starts on ' + WORKER_IP)) {
    return;
  }

  const ngx = await startNginx(dir, await freeTcpPort(), {
    http: [
      `rooms_turn turn:${TURN_IP}:${TURN_PORT}?transport=udp ` +
        `turn:${TURN_IP}:${TURN_PORT}?transport=tcp;`,
      `rooms_turn_secret ${SECRET};`,
    ],
  });
  if (!ok(ngx, 'nginx starts with rooms_turn and rooms_turn_secret')) return;

  const res = await fetch(ngx.base + 'api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Through TURN' }),
  });
  const room = await res.json();
  if (!ok(res.status === 201, 'a room', JSON.stringify(room))) return;

  // Chromium without the flag that lets it offer loopback
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: chromiumArgs.filter((a) =>
      a !== '--allow-loopback-in-peer-connection'),
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
  });

  const welcomes = {};
  for (const name of NAMES) {
    const page = await openPerson(browser, people, name, room.invite_url, {
      init: name === 'Alice' ? [relayOnly] : [],
    });
    page.on('websocket', (ws) => ws.on('framereceived', (f) => {
      try {
        const m = JSON.parse(f.payload);
        if (m.type === 'welcome') welcomes[name] = m;
      } catch (e) { /* not JSON */ }
    }));
    const r = await joinAs(page, name);
    ok(r === true, name + ' joins', 'got: ' + r);
  }

  for (const name of NAMES) {
    const w = welcomes[name] || {};
    const s = (w.ice_servers || [])[0] || {};
    ok(Array.isArray(s.urls) && s.urls.length === 2 &&
       new RegExp('^\\d+:' + w.id + '$').test(s.username || '') &&
       typeof s.credential === 'string' && s.credential.length === 28,
       name + "'s welcome carries the TURN URLs and a credential of its own",
       JSON.stringify(w.ice_servers));
    ok(!JSON.stringify(w).includes(SECRET), 'and not the secret');
  }

  for (const [name, other] of [['Alice', 'Bob'], ['Bob', 'Alice']]) {
    const r = await until(() => hearsAndSees(name, [other]),
                          { timeout: 40000 });
    ok(r, name + ' sees and hears ' + other + ' through TURN ' +
       '(framesDecoded > 0, totalSamplesReceived > 0)',
       'stats: ' + JSON.stringify(await people[name].page
         .evaluate(receivedInPage).catch(() => null)));
    if (r) diag(name + ' receives ' + JSON.stringify(r));
  }

  // and it goes on: the relayed media keeps flowing (consent checks
  // through coturn are answered)
  for (const [name, other] of [['Alice', 'Bob'], ['Bob', 'Alice']]) {
    const at = async () => (await people[name].page
      .evaluate(receivedInPage))[other];
    const b = await at();
    const r = await until(async () => {
      const now = await at();
      return Math.max(...now.video) > Math.max(...b.video) + 40 &&
             Math.max(...now.audio) > Math.max(...b.audio) ? now : false;
    }, { timeout: 30000, every: 1000 });
    ok(r, name + ' keeps decoding ' + other + ' (40 frames more)',
       'before: ' + JSON.stringify(b) + ' after: ' +
       JSON.stringify(await at().catch(() => null)));
  }

  for (const name of NAMES) {
    const pair = await until(() => people[name].page.evaluate(selectedPair),
                             { timeout: 10000 });
    diag(name + "'s selected candidate pair: " + JSON.stringify(pair));
    if (name === 'Alice') {
      ok(pair && pair.local.type === 'relay',
         "Alice's (relay-only) selected pair's local candidate is a relay",
         JSON.stringify(pair));
      ok(pair && pair.local.relayProtocol === 'tcp',
         'reached over TCP (turn:...?transport=tcp)', JSON.stringify(pair));
    } else {
      ok(pair && pair.local.type === 'relay',
         "Bob's too: his own UDP cannot reach the media worker",
         JSON.stringify(pair));
    }
    ok(pair && pair.remote.address === WORKER_IP &&
       pair.remote.port === udpPort,
       name + "'s remote candidate is the media worker's " + WORKER_IP +
       ':' + udpPort, JSON.stringify(pair));
  }

  // coturn took each welcome's credential
  {
    const log = fs.readFileSync(path.join(dir, 'logs/turnserver.log'),
                                'utf8');
    for (const name of NAMES) {
      const user = ((welcomes[name] || {}).ice_servers || [{}])[0].username;
      const re = new RegExp('user <' + user +
                            '>: incoming packet ALLOCATE processed, success');
      ok(user && re.test(log), 'coturn allocated a relay for ' + name +
         "'s username (" + user + ')',
         log.split('\n').filter((l) => /ALLOCATE|401|error/i.test(l))
           .slice(-10).join('\n'));
    }
    ok(!log.includes(SECRET), "the secret is not in coturn's log either");
  }

  // coturn asked directly: a credential nginx signed is taken, an expired
  // one or a wrong secret refused; a relay reaches the media worker and
  // no other address
  {
    const w = (welcomes.Bob || {}).ice_servers || [{}];
    const r = await turnTry(w[0].username, w[0].credential,
                            [WORKER_IP, '10.99.0.3']);
    ok(r.allocate === 0, "coturn allocates with Bob's credential " +
       '(another allocation)', JSON.stringify(r));
    ok(r.peers[WORKER_IP] === 0,
       'a permission for the media worker ' + WORKER_IP + ' is granted',
       JSON.stringify(r));
    ok(r.peers['10.99.0.3'] === 403,
       'one for any other address (10.99.0.3) is refused 403 ' +
       '(allowed-peer-ip, denied-peer-ip)', JSON.stringify(r));
    const now = Math.floor(Date.now() / 1000);
    const late = await turnTry(...credential(now - 60, 'late'));
    ok(late.allocate === 401, 'an expired credential is refused 401',
       JSON.stringify(late));
    const wrong = await turnTry(...credential(now + 3600, 'x',
                                              SECRET + 'x'));
    ok(wrong.allocate === 401,
       'a credential signed with another secret is refused 401',
       JSON.stringify(wrong));
    const good = await turnTry(...credential(now + 3600, 'x'));
    ok(good.allocate === 0, 'the same, signed with the secret, is taken',
       JSON.stringify(good));
  }

  ok(dropped() > 1, "the browsers' own UDP to the media worker was " +
     'dropped (rule counter: ' + dropped() + ')');

  for (const name of NAMES) {
    ok(people[name].errors.length === 0, name + "'s page threw no errors",
       people[name].errors.join('\n'));
  }
  diag('--- turnserver log (allocations)');
  diag(fs.readFileSync(path.join(dir, 'logs/turnserver.log'), 'utf8')
    .split('\n').filter((l) => /ALLOCATE|CREATE_PERMISSION|CHANNEL_BIND/
      .test(l)).slice(0, 8).join('\n'));
}

scenario().then(finish, (e) => {
  ok(false, 'the scenario ran to its end', e.stack);
  finish();
});
