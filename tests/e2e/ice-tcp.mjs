// ICE over TCP: `make run`'s defaults as in net-default.mjs, but UDP to
// the media worker's port is refused by nftables inside the namespace
// (ice-tcp.t), as on a network that lets only TCP through.  Two
// Chromiums (no loopback flag) must still see and hear each other, over
// the worker's passive TCP candidates (RFC 6544): the selected candidate
// pair is tcp on both.  Prints TAP.

import { execFileSync } from 'node:child_process';
import {
  ok, diag, vethAddrs, startMakeRun, announced, launchChromium,
  callOfTwo, scenarioRun,
} from './lib.mjs';

const DEADLINE = 120000;      // the whole run; only a failing run reaches it

let browser = null;
const people = {};
const { dir, finish } = scenarioRun(DEADLINE, () => browser, people);

async function scenario() {
  const run = await startMakeRun(dir);
  if (!ok(run, 'make run (scripts/run.sh, no MEDIA_IP) serves its page')) {
    return;
  }

  const tcp = announced(dir).filter((c) => c.protocol === 'tcp');
  ok(tcp.length > 0 && tcp.every((c) => c.port === run.mediaPort),
     'the worker announces passive TCP candidates on the media port',
     JSON.stringify(tcp));

  // UDP towards the worker's port is refused, in the kernel, from now on
  const rules = 'table inet rooms_ice_tcp {\n' +
    '  chain input {\n' +
    '    type filter hook input priority 0; policy accept;\n' +
    `    udp dport ${run.mediaPort} counter reject\n` +
    '  }\n}\n';
  try {
    execFileSync('nft', ['-f', '-'], { input: rules });
    ok(true, 'nftables refuses UDP to port ' + run.mediaPort);
  } catch (e) {
    ok(false, 'nftables refuses UDP to port ' + run.mediaPort, String(e));
    return;
  }

  browser = await launchChromium([], { loopback: false });
  const pairs = await callOfTwo(browser, people, run.base, 'ICE over TCP');

  const ours = [...vethAddrs.rv0, ...vethAddrs.rv1];
  for (const [name, p] of Object.entries(pairs || {})) {
    ok(p && p.local.protocol === 'tcp' && p.remote.protocol === 'tcp' &&
       p.remote.tcpType === 'passive' && ours.includes(p.remote.address) &&
       p.remote.port === run.mediaPort,
       name + "'s selected pair is TCP, to the worker's passive candidate",
       JSON.stringify(p));
  }

  // the rule did refuse something: the browsers did try UDP first
  const counted = execFileSync('nft', ['list', 'table', 'inet',
                                       'rooms_ice_tcp']).toString();
  const m = counted.match(/counter packets (\d+)/);
  diag('UDP datagrams refused: ' + (m ? m[1] : '?'));
  ok(m && Number(m[1]) > 0, 'the browsers\' UDP checks were refused',
     counted);
}

scenario()
  .catch((e) => ok(false, 'the scenario runs without an exception',
                   e && e.stack))
  .finally(finish);
