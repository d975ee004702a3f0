// The impairment relay (tests/relay/rooms-relay.c, built as
// build/rooms-relay) for the browser tests: this machine's kernel has no
// netem, so a weak link is a userspace relay between Chromium and the
// media worker.  The worker binds 127.0.0.2 and announces 127.0.0.1 on
// the same port; the relay listens on 127.0.0.1 and forwards each browser
// through a socket of its own.  Processes are started with lib.mjs's
// start(), so stopAll() ends the relay with everything else.
//
//     const { worker, relay } = await startWorkerBehindRelay(dir, udpPort);
//     const ngx = await startNginx(dir, await freeTcpPort());
//     ... a person joins ...
//     const who = await relayClientOf(page);            // '127.0.0.1:PORT'
//     await relay.control(`set ${who} down rate=300000`);   // 'ok'
//     (await relay.clients()).clients.find((c) => c.name === who).down.qdrop
//
// Build the relay with:
//     cc -O2 -g -Wall -Wextra -Werror -o build/rooms-relay \
//        tests/relay/rooms-relay.c

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { start, stop, until, top, workerBinary } from '../e2e/lib.mjs';

// ROOMS_RELAY: another build to test
export const relayBinary = process.env.ROOMS_RELAY ||
                           path.join(top, 'build/rooms-relay');

// One command on the relay's control socket; resolves with its one answer
// line ('ok ...' or 'error <reason>').  A connection per command: the
// relay takes many, and a test never sends enough for it to matter.
export function relayControl(sock, cmd, timeout = 5000) {
  return new Promise((resolve, reject) => {
    if (/[\r\n]/.test(cmd)) {
      reject(new Error('relay control: one command, one line'));
      return;
    }
    const c = net.createConnection(sock);
    let buf = '';
    let settled = false;
    const finish = (fn, v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      c.destroy();
      fn(v);
    };
    const timer = setTimeout(() => finish(reject,
      new Error('relay control: no answer to "' + cmd + '"')), timeout);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(cmd + '\n'));
    c.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(resolve, buf.slice(0, nl));
    });
    c.on('error', (e) => finish(reject, e));
    c.on('close', () => finish(reject,
      new Error('relay control: closed without an answer to "' + cmd + '"')));
  });
}

// 'ok N refused=.. | 127.0.0.1:P via=.. up.in=.. down.rate=.. | ...' into
// { count, refused, oversize, rx_err, held,
//   clients: [{ name, via, idle_ms, up: { loss, delay, rate, queue_max,
//     in, lost, qdrop, full, sent, bytes, err, queue, held }, down }] }
export function parseClients(line) {
  const parts = line.split(' | ');
  const head = parts.shift().split(' ');
  if (head[0] !== 'ok') throw new Error('relay: ' + line);
  const out = { count: Number(head[1]), clients: [] };
  for (const kv of head.slice(2)) {
    const [k, v] = kv.split('=');
    out[k] = Number(v);
  }
  for (const part of parts) {
    const words = part.split(' ');
    const c = { name: words[0], up: {}, down: {} };
    for (const kv of words.slice(1)) {
      const [k, v] = kv.split('=');
      const dot = k.indexOf('.');
      if (dot > 0) c[k.slice(0, dot)][k.slice(dot + 1)] = Number(v);
      else c[k] = k === 'via' ? v : Number(v);
    }
    out.clients.push(c);
  }
  return out;
}

// Starts the relay; null if it does not come up (its log says why: dir's
// logs/relay.log, or dir/relay.log when there is no logs/).  Ready means
// its control socket exists: the relay binds it last.
export async function startRelay({ listen, upstream, dir, seed = 1, idle }) {
  const sock = path.join(dir, 'relay.sock');
  const logs = fs.existsSync(path.join(dir, 'logs'))
               ? path.join(dir, 'logs') : dir;
  const args = ['--listen', listen, '--upstream', upstream,
                '--control', sock, '--seed', String(seed)];
  if (idle) args.push('--idle', String(idle));
  const child = start(relayBinary, args, path.join(logs, 'relay.log'));
  const up = await until(() => child.exitStatus === undefined
                         ? fs.existsSync(sock) : 'exited',
                         { timeout: 10000, every: 50 });
  if (up !== true) {
    await stop(child);
    return null;
  }
  return {
    child,
    socket: sock,
    control: (cmd) => relayControl(sock, cmd),
    clients: async () => parseClients(await relayControl(sock, 'clients')),
    stop: () => stop(child),
  };
}

// The media worker behind a relay: the worker binds 127.0.0.2:udpPort and
// announces 127.0.0.1:udpPort, where the relay listens.  Its control
// socket is dir/worker.sock, as startWorker() makes it, so startNginx()
// works unchanged.  { worker, relay }, either null on a failure.
export async function startWorkerBehindRelay(dir, udpPort, { seed } = {}) {
  const relay = await startRelay({ listen: '127.0.0.1:' + udpPort,
                                   upstream: '127.0.0.2:' + udpPort,
                                   dir, seed });
  const sock = path.join(dir, 'worker.sock');
  const worker = start(workerBinary,
    ['--udp-port', String(udpPort), '--bind-ip', '127.0.0.2',
     '--announce-ip', '127.0.0.1', '--control', sock,
     '--log-level', 'debug', '--workers', '1'],
    path.join(dir, 'logs/worker.log'));
  const up = await until(() => worker.exitStatus === undefined
                         ? fs.existsSync(sock) : 'exited',
                         { timeout: 15000, every: 100 });
  return { worker: up === true ? worker : null, relay };
}

// The relay's name for a page's browser, '127.0.0.1:PORT': the local
// candidate of the selected pair of the page's newest peer connection
// (window.__pcs, kept by lib.mjs's capturePeerConnections).  null until
// ICE has chosen a pair.  When the browser took the worker's
// XOR-MAPPED-ADDRESS (the relay's upstream socket for it) as a
// peer-reflexive local candidate, that is the client's `via`: pass the
// relay to have it resolved to the client's name.
export async function relayClientOf(page, relay) {
  const port = await page.evaluate(async () => {
    const pc = (window.__pcs || []).at(-1);
    if (!pc) return null;
    const stats = await pc.getStats();
    let pairId = null;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        pairId = s.selectedCandidatePairId;
      }
    });
    const pair = pairId && stats.get(pairId);
    const local = pair && stats.get(pair.localCandidateId);
    return local ? local.port : null;
  });
  if (!port) return null;
  const name = '127.0.0.1:' + port;
  if (!relay) return name;
  const { clients } = await relay.clients();
  const c = clients.find((x) => x.name === name || x.via === name);
  return c ? c.name : null;
}
