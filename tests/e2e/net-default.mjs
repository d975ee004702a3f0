// `make run` as a new user runs it, reached as an everyday browser
// reaches it: scripts/run.sh with its defaults (no MEDIA_IP) in a
// temporary RUN_DIR, and two Chromiums started WITHOUT
// --allow-loopback-in-peer-connection, in a namespace whose only other
// interfaces are a veth pair (net-default.t).  The worker must announce
// the machine's own addresses (never loopback, which such a browser
// refuses), and both people see and hear each other over one of them.
// Then, with UDP over IPv6 to the worker refused (nftables), two more
// do over IPv4: each address family reaches its own socket and is
// answered from it.  Prints TAP.

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

  const cands = announced(dir);
  const ours = [...vethAddrs.rv0, ...vethAddrs.rv1];
  ok(cands.length > 0 && cands.every((c) => ours.includes(c.address)),
     'the worker announces the machine\'s addresses, and no loopback one',
     JSON.stringify(cands));
  for (const ip of ours) {
    ok(cands.some((c) => c.address === ip && c.protocol === 'udp') &&
       cands.some((c) => c.address === ip && c.protocol === 'tcp'),
       ip + ' is announced over UDP and TCP');
  }

  browser = await launchChromium([], { loopback: false });
  const pairs = await callOfTwo(browser, people, run.base, 'Net default');
  if (!pairs) return;

  for (const [name, p] of Object.entries(pairs)) {
    ok(p && ours.includes(p.remote.address) && p.remote.protocol === 'udp',
       name + "'s media goes over UDP to one of the worker's addresses",
       JSON.stringify(p));
  }

  // the other family: IPv6 UDP to the worker refused, a new call
  execFileSync('nft', ['-f', '-'], { input:
    'table inet rooms_net_default {\n' +
    '  chain input {\n' +
    '    type filter hook input priority 0; policy accept;\n' +
    `    meta nfproto ipv6 udp dport ${run.mediaPort} reject\n` +
    '  }\n}\n' });
  const v4 = await callOfTwo(browser, people, run.base, 'Net default v4',
                             ['Carol', 'Dave']);
  if (!v4) return;
  const ours4 = [vethAddrs.rv0[0], vethAddrs.rv1[0]];
  for (const [name, p] of Object.entries(v4)) {
    ok(p && ours4.includes(p.remote.address) && p.remote.protocol === 'udp',
       name + "'s media goes over UDP to one of the worker's IPv4 addresses",
       JSON.stringify(p));
  }
}

scenario()
  .catch((e) => ok(false, 'the scenario runs without an exception',
                   e && e.stack))
  .finally(finish);
