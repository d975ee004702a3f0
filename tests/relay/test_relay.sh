#!/bin/sh
# Self-test of the impairment relay (tests/relay/rooms-relay.c): the real
# binary between a python3 client and a python3 UDP echo server on
# 127.0.0.2, with real sockets and a real clock.  Checks that datagrams pass
# unchanged both ways, then each impairment (loss, delay, rate with a
# drop-tail queue), one socket and one rule per client, bad control input,
# repeatable loss under --seed, idle expiry, and the Node helper
# (relay.mjs).  Prints TAP with the measured figures as comments, so that
# prove can run it; exits non-zero on any failure.
#
#     sh tests/relay/test_relay.sh          (builds build/rooms-relay when
#                                            missing or older than its source)
#
# ROOMS_RELAY: another build to test.  About 30 s, mostly the rate and
# idle phases.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
src="$top/tests/relay/rooms-relay.c"
relay="${ROOMS_RELAY:-$top/build/rooms-relay}"

if ! command -v python3 >/dev/null 2>&1; then
    echo "1..1"
    echo "not ok 1 - python3 is installed (the self-test's client and echo)"
    exit 1
fi

if [ -z "${ROOMS_RELAY:-}" ] \
   && { [ ! -x "$relay" ] || [ "$src" -nt "$relay" ]; }
then
    mkdir -p "$top/build"
    if ! cc -O2 -g -Wall -Wextra -Werror -o "$relay" "$src"; then
        echo "1..1"
        echo "not ok 1 - rooms-relay builds"
        exit 1
    fi
fi

exec python3 - "$relay" "$top" <<'PYTHON'
import os, random, select, signal, socket, statistics, subprocess, sys
import tempfile, time

relay_bin, top = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix='rooms-relay-')
count = 0
failed = 0
procs = []


def diag(text):
    for line in str(text).split('\n'):
        print('# ' + line, flush=True)


def ok(cond, name, why=None):
    global count, failed
    count += 1
    print(('ok ' if cond else 'not ok ') + str(count) + ' - ' + name,
          flush=True)
    if not cond:
        failed += 1
        if why is not None:
            diag(why)
    return cond


def skip(name, why):
    global count
    count += 1
    print('ok %d - %s # SKIP %s' % (count, name, why), flush=True)


# ---- the echo server: a separate process, so timing is not shared --------
# "whoami?" answers the address the datagram came from, so the test sees
# the 5-tuple the upstream sees; anything else comes back as it came.
ECHO = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
s.bind(("127.0.0.2", 0))
print(s.getsockname()[1], flush=True)
while True:
    d, a = s.recvfrom(65536)
    if d == b"whoami?":
        d = ("%s:%d" % a).encode()
    s.sendto(d, a)
'''


def start_echo():
    p = subprocess.Popen([sys.executable, '-c', ECHO],
                         stdout=subprocess.PIPE)
    procs.append(p)
    return p, int(p.stdout.readline())


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Relay:
    def __init__(self, name, upstream_port, extra=()):
        self.port = free_port()
        self.sock = os.path.join(tmp, name + '.sock')
        self.log = os.path.join(tmp, name + '.log')
        self.addr = ('127.0.0.1', self.port)
        with open(self.log, 'ab') as log:
            self.proc = subprocess.Popen(
                [relay_bin, '--listen', '127.0.0.1:%d' % self.port,
                 '--upstream', '127.0.0.2:%d' % upstream_port,
                 '--control', self.sock] + list(extra),
                stdout=log, stderr=log)
        procs.append(self.proc)
        end = time.time() + 5
        while not os.path.exists(self.sock) and time.time() < end:
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.up = os.path.exists(self.sock)

    def raw(self, data, timeout=5):
        """sends bytes, returns every answer line until the relay has
        answered `lines` lines or closed"""
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(timeout)
        c.connect(self.sock)
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        buf = b''
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                buf += d
        except socket.timeout:
            pass
        c.close()
        return buf.decode(errors='replace').split('\n')[:-1]

    def ctl(self, cmd):
        lines = self.raw(cmd.encode() + b'\n')
        return lines[0] if lines else '(no answer)'

    def stats(self, client):
        line = self.ctl('stats ' + client)
        out = {'line': line}
        for kv in line.split()[2:]:
            k, _, v = kv.partition('=')
            try:
                out[k] = float(v) if '.' in v and k.endswith('loss') \
                    else int(v)
            except ValueError:
                out[k] = v
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None

    def tail(self):
        try:
            with open(self.log) as f:
                return ''.join(f.readlines()[-20:])
        except OSError:
            return ''


class Client:
    def __init__(self, relay):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.bind(('127.0.0.1', 0))
        self.s.connect(relay.addr)
        self.name = '127.0.0.1:%d' % self.s.getsockname()[1]

    def drain(self, wait=0.0):
        """everything that arrives until `wait` s of silence:
        [(time, bytes)]"""
        got = []
        while True:
            r, _, _ = select.select([self.s], [], [], wait)
            if not r:
                return got
            while True:
                try:
                    got.append((time.monotonic(),
                                self.s.recv(65536, socket.MSG_DONTWAIT)))
                except BlockingIOError:
                    break

    def ask(self, data, timeout=1.0):
        self.s.send(data)
        r, _, _ = select.select([self.s], [], [], timeout)
        return self.s.recv(65536) if r else None

    def pump(self, payloads, interval, settle):
        """sends each payload `interval` s apart, reading all along;
        returns (send times, [(arrival, bytes)])"""
        sent, got = [], []
        t0 = time.monotonic()
        for i, p in enumerate(payloads):
            due = t0 + i * interval
            while True:
                left = due - time.monotonic()
                if left <= 0:
                    break
                got += self.drain_once(left)
            sent.append(time.monotonic())
            self.s.send(p)
            got += self.drain_once(0)
        got += self.drain(settle)
        return sent, got

    def drain_once(self, wait):
        r, _, _ = select.select([self.s], [], [], wait)
        got = []
        if r:
            while True:
                try:
                    got.append((time.monotonic(),
                                self.s.recv(65536, socket.MSG_DONTWAIT)))
                except BlockingIOError:
                    break
        return got


def numbered(i, size):
    head = i.to_bytes(4, 'big')
    return head + random.randbytes(max(0, size - 4))


def rtts(client, n=40, gap=0.01):
    out = []
    for i in range(n):
        t = time.monotonic()
        client.s.send(numbered(i, 100))
        while True:
            r, _, _ = select.select([client.s], [], [], 1.0)
            if not r:
                break
            d = client.s.recv(65536)
            if d[:4] == i.to_bytes(4, 'big'):
                out.append((time.monotonic() - t) * 1000)
                break
        time.sleep(gap)
    return out


def main():
    random.seed(42)
    echo, echo_port = start_echo()
    relay = Relay('main', echo_port, ['--seed', '1'])

    if not ok(relay.up, 'the relay starts and binds its control socket',
              relay.tail()):
        return

    ok(relay.ctl('help').startswith('ok '), 'help answers ok')

    # -- unchanged both ways --------------------------------------------
    a = Client(relay)
    sizes = [0, 1, 65507] + [random.randint(0, 1400) for _ in range(297)]
    bad = []
    for i, size in enumerate(sizes):
        p = numbered(i, size) if size >= 4 else random.randbytes(size)
        back = a.ask(p)
        if back != p:
            bad.append((i, size, None if back is None else len(back)))
    ok(not bad, '300 datagrams of 0 to 65507 bytes come back unchanged, '
       'in order', 'wrong: %r' % bad[:5])

    st = relay.stats(a.name)
    ok(st.get('up.in') == 300 and st.get('up.sent') == 300
       and st.get('down.sent') == 300
       and st.get('up.bytes') == sum(sizes)
       and st.get('down.bytes') == sum(sizes),
       'the counters saw 300 each way and every byte', st['line'])

    seen = a.ask(b'whoami?').decode()
    ok(seen == st.get('via') and seen != a.name
       and seen.startswith('127.0.0.1:'),
       'the upstream sees the relay\'s own socket for the client (%s for '
       '%s)' % (seen, a.name), st['line'])

    # -- loss -------------------------------------------------------------
    relay.ctl('reset')
    ok(relay.ctl('set %s up loss=0.5' % a.name) == 'ok',
       'set <client> up loss=0.5 answers ok')
    _, got = a.pump([numbered(i, 100) for i in range(2000)], 0.0005, 0.3)
    st = relay.stats(a.name)
    diag('loss 0.5 up: %d of 2000 came back; relay: in %s lost %s sent %s'
         % (len(got), st.get('up.in'), st.get('up.lost'),
            st.get('up.sent')))
    ok(900 <= len(got) <= 1100, 'loss=0.5 drops about half of 2000 '
       '(%d delivered, want 900..1100)' % len(got))
    ok(st.get('up.in') == 2000 and
       st.get('up.lost') + st.get('up.sent') == st.get('up.in')
       and st.get('up.lost') == 2000 - len(got),
       'every datagram is either lost or sent, and the counter agrees',
       st['line'])

    relay.ctl('set %s up loss=0' % a.name)
    relay.ctl('set %s down loss=0.2' % a.name)
    _, got = a.pump([numbered(i, 100) for i in range(1000)], 0.0005, 0.3)
    diag('loss 0.2 down: %d of 1000 came back' % len(got))
    ok(700 <= len(got) <= 900, 'loss=0.2 down drops about a fifth of 1000 '
       '(%d delivered, want 700..900)' % len(got))

    # -- reset --------------------------------------------------------------
    ok(relay.ctl('reset') == 'ok', 'reset answers ok')
    st = relay.stats(a.name)
    ok(st.get('down.loss') == 0 and st.get('up.in') == 0
       and st.get('down.sent') == 0,
       'reset clears the rules and the counters', st['line'])

    # -- delay -------------------------------------------------------------
    base = statistics.median(rtts(a))
    relay.ctl('set %s up delay=50' % a.name)
    up50 = rtts(a)
    relay.ctl('set %s down delay=30' % a.name)
    both = rtts(a)
    m50, m80 = statistics.median(up50), statistics.median(both)
    diag('round trip median: %.2f ms bare, %.2f ms with up delay=50 '
         '(min %.2f), %.2f ms with down delay=30 too (min %.2f)'
         % (base, m50, min(up50), m80, min(both)))
    ok(len(up50) == 40 and m50 >= 50 and min(up50) >= 50 and m50 < 90,
       'delay=50 up adds at least 50 ms (median %.1f ms)' % m50)
    ok(len(both) == 40 and m80 >= 80 and min(both) >= 80 and m80 < 120,
       'delay adds up over both directions (median %.1f ms, want >= 80)'
       % m80)
    relay.ctl('reset')

    # -- rate and the drop-tail queue ----------------------------------
    # 1000-byte datagrams at 1 Mbit/s for 3 s; the downlink carries
    # 300 kbit/s behind a 64 KB queue
    ok(relay.ctl('set %s down rate=300000' % a.name) == 'ok',
       'set <client> down rate=300000 answers ok')
    payloads = [numbered(i, 1000) for i in range(375)]
    sent, got = a.pump(payloads, 0.008, 1.0)
    st = relay.stats(a.name)
    span = sent[-1] - sent[0]
    offered = (len(sent) - 1) * 1000 * 8 / span
    rate = (sum(len(d) for _, d in got[1:]) * 8
            / (got[-1][0] - got[0][0])) if len(got) > 1 else 0
    delays = [(t - sent[int.from_bytes(d[:4], 'big')]) * 1000
              for t, d in got]
    diag('rate 300000 down: offered %.0f kbit/s, delivered %.0f kbit/s; '
         '%d of %d delivered, %s queue drops; queueing delay max %.0f ms '
         '(64 KB at 300 kbit/s drains in %.0f ms)'
         % (offered / 1000, rate / 1000, len(got), len(sent),
            st.get('down.qdrop'), max(delays) if delays else -1,
            65536 * 8 / 300))
    ok(240000 <= rate <= 360000,
       'rate=300000 delivers %.0f kbit/s of a 1 Mbit/s burst (want 240..360)'
       % (rate / 1000))
    ok(st.get('down.qdrop', 0) > 0 and st.get('down.in') == 375
       and st.get('down.qdrop') + st.get('down.sent') == 375,
       'the queue drops what it cannot hold (%s drops)'
       % st.get('down.qdrop'), st['line'])
    ok(delays and max(delays) < 65536 * 8 / 300 + 300,
       'the queue bounds the delay (max %.0f ms)'
       % (max(delays) if delays else -1))
    relay.ctl('reset')

    # -- no busy loop: holding a datagram, the relay sleeps until it is due
    relay.ctl('set %s up delay=1500' % a.name)
    a.s.send(b'later')
    def cpu():
        with open('/proc/%d/stat' % relay.proc.pid) as f:
            v = f.read().rsplit(')', 1)[1].split()
        return int(v[11]) + int(v[12])      # utime + stime, in ticks
    c0 = cpu()
    back = a.drain_once(2.5)
    ticks = cpu() - c0
    diag('holding one datagram for 1.5 s the relay used %d clock ticks '
         '(1/%d s each)' % (ticks, os.sysconf('SC_CLK_TCK')))
    ok(ticks <= 5 and len(back) == 1 and back[0][1] == b'later',
       'a relay holding a datagram sleeps until it is due')
    relay.ctl('reset')

    # -- two clients, two sockets, two rules -------------------------------
    b = Client(relay)
    wa, wb = a.ask(b'whoami?'), b.ask(b'whoami?')
    wa = wa.decode() if wa else None
    wb = wb.decode() if wb else None
    diag('client %s reaches the upstream as %s, client %s as %s'
         % (a.name, wa, b.name, wb))
    ok(wa and wb and wa != wb and wa != a.name and wb != b.name,
       'two clients get separate upstream ports')
    cl = relay.ctl('clients')
    ok(cl.startswith('ok 2 ') and (a.name + ' via=' + wa) in cl
       and (b.name + ' via=' + wb) in cl,
       'clients lists both with their upstream sockets', cl[:300])
    relay.ctl('set %s up loss=1' % a.name)
    _, ga = a.pump([numbered(i, 100) for i in range(50)], 0.001, 0.2)
    _, gb = b.pump([numbered(i, 100) for i in range(50)], 0.001, 0.2)
    ok(len(ga) == 0 and len(gb) == 50,
       'a rule on one client leaves the other alone (%d and %d of 50 back)'
       % (len(ga), len(gb)))
    sa, sb = relay.stats(a.name), relay.stats(b.name)
    ok(sa.get('up.loss') == 1 and sb.get('up.loss') == 0
       and sa.get('up.lost') == 50 and sb.get('up.lost') == 0,
       'stats shows each client\'s own rule and counters')
    relay.ctl('reset')
    relay.ctl('set * down delay=5')
    c = Client(relay)
    c.ask(b'whoami?')
    sc, sa = relay.stats(c.name), relay.stats(a.name)
    ok(sc.get('down.delay') == 5 and sa.get('down.delay') == 5
       and relay.ctl('stats *').startswith('ok * up.loss=0 up.delay=0'),
       'set * changes current clients and the default new ones copy')
    relay.ctl('reset')

    # -- bad control input --------------------------------------------
    bad_cmds = [
        'set', 'set *', 'set * up', 'set * sideways loss=0.1',
        'set * up loss=2', 'set * up loss=-0.1', 'set * up loss=abc',
        'set * up loss=nan', 'set * up loss=', 'set * up loss',
        'set * up delay=-1', 'set * up delay=1.5', 'set * up delay=999999',
        'set * up rate=12x', 'set * up rate=10', 'set * up queue=0',
        'set * up queue=99999999999', 'set * up bogus=1',
        'set * up loss=0.1 bogus=1', 'set 10.9.9.9:5 up loss=0.1',
        'set 999.1.1.1:5 up loss=0.1', 'set 127.0.0.1:99999 up loss=0.1',
        'set nonsense up loss=0.1', 'set [::1 up loss=0.1',
        'stats', 'stats nobody', 'stats 127.0.0.1:1', 'clients extra',
        'frobnicate', '', '   ', 'set * up ' + ' '.join(['loss=0'] * 20),
    ]
    wrong = []
    for cmd in bad_cmds:
        answer = relay.ctl(cmd)
        if not answer.startswith('error '):
            wrong.append((cmd, answer))
    ok(not wrong, '%d bad commands each answer "error <reason>"'
       % len(bad_cmds), 'wrong: %r' % wrong[:5])
    ok(relay.ctl('stats *').startswith('ok * up.loss=0 up.delay=0 up.rate=0'),
       'no bad command changed a rule')
    lines = relay.raw(b'x' * 5000 + b'\nstats *\n')
    ok(len(lines) == 2 and lines[0] == 'error line too long'
       and lines[1].startswith('ok *'),
       'an overlong line answers once and the connection goes on', lines)
    lines = relay.raw(b'reset\x00junk\nhelp\n')
    ok(len(lines) == 2 and lines[0].startswith('error')
       and lines[1].startswith('ok'), 'a NUL byte in a command is refused',
       lines)
    lines = relay.raw(b'stats *\nhelp\nclients\nstats *')
    ok(len(lines) == 4 and all(l.startswith('ok') for l in lines),
       'pipelined commands get one answer each, the last without its '
       'newline too', lines)
    junk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    junk.connect(relay.sock)
    junk.sendall(random.randbytes(20000))
    junk.close()
    time.sleep(0.1)
    ok(relay.proc.poll() is None and relay.ctl('help').startswith('ok'),
       'random bytes on the control socket do not hurt the relay')

    # -- repeatable loss, the default rule for new clients, idle expiry --
    runs = []
    for n in range(2):
        r2 = Relay('seeded%d' % n, echo_port, ['--seed', '7', '--idle', '1'])
        r2.ctl('set * up loss=0.3')
        cl2 = Client(r2)
        _, got = cl2.pump([numbered(i, 50) for i in range(300)], 0.0005,
                          0.3)
        runs.append(sorted(int.from_bytes(d[:4], 'big') for _, d in got))
        if n == 1:
            before = r2.ctl('clients')
            time.sleep(2.2)
            after = r2.ctl('clients')
        r2.stop()
    diag('seed 7, loss 0.3: %d and %d of 300 delivered'
         % (len(runs[0]), len(runs[1])))
    ok(runs[0] == runs[1] and 180 <= len(runs[0]) <= 240,
       'the same --seed drops the same datagrams, and a new client takes '
       'the default rule')
    ok(before.startswith('ok 1 ') and after.startswith('ok 0 '),
       'an idle client is forgotten (--idle 1)', before[:80] + ' / ' + after)

    # -- the bounds: held bytes, clients ----------------------------------
    r3 = Relay('bounds', echo_port)
    x = Client(r3)
    x.ask(b'whoami?')
    r3.ctl('set %s up delay=10000' % x.name)
    big = random.randbytes(65000)
    for i in range(600):                    # 39 MB, over the 32 MB cap
        x.s.send(big)
        if i % 20 == 19:
            time.sleep(0.005)
    time.sleep(0.3)
    sx = r3.stats(x.name)
    diag('600 datagrams of 65000 bytes held for 10 s: %s held, %s refused '
         'as over the cap' % (sx.get('up.held'), sx.get('up.full')))
    ok(sx.get('up.full', 0) > 0 and sx.get('up.held', 1 << 40) <= 32 << 20
       and sx.get('up.full') + sx.get('up.held') // 65000
           == sx.get('up.in') - sx.get('up.sent'),
       'the relay holds at most 32 MB and counts what it turns away',
       sx['line'])
    r3.ctl('reset')
    many = [Client(r3) for _ in range(69)]
    for m in many:
        m.s.send(b'hello')
    time.sleep(0.3)
    line = r3.ctl('clients')
    diag('70 sources: %s; the answer to clients is %d bytes'
         % (line.split(' | ')[0], len(line)))
    ok(line.startswith('ok 64 refused=6 ') and line.count(' | ') == 64,
       'at most 64 clients; the rest are refused and counted', line[:120])
    ok(r3.stop() == 0, 'the relay exits 0 holding 32 MB')

    # -- the Node helper ---------------------------------------------------
    node = subprocess.run(['sh', '-c', 'command -v node'],
                          capture_output=True).returncode == 0
    if node:
        script = '''
import { startRelay, parseClients } from %r;
const r = await startRelay({ listen: '127.0.0.1:%d',
                             upstream: '127.0.0.2:%d', dir: %r });
if (!r) { console.log('no relay'); process.exit(1); }
const a = await r.control('set * down delay=7');
const b = await r.control('set * up loss=9');
const c = parseClients(await r.control('clients'));
await r.stop();
console.log(JSON.stringify([a, b, c.count]));
''' % (os.path.join(top, 'tests/relay/relay.mjs'), free_port(), echo_port,
       tmp)
        res = subprocess.run(['node', '--input-type=module', '-e', script],
                             capture_output=True, text=True, timeout=30)
        out = res.stdout.strip()
        ok(res.returncode == 0 and out.startswith('["ok","error ')
           and out.endswith(',0]') and
           not os.path.exists(os.path.join(tmp, 'relay.sock')),
           'relay.mjs starts the relay, talks to it and stops it',
           out + res.stderr)
    else:
        skip('relay.mjs starts the relay, talks to it and stops it',
             'node is not installed')

    # -- a clean exit ------------------------------------------------------
    alive = relay.proc.poll() is None
    code = relay.stop()
    ok(alive and code == 0 and not os.path.exists(relay.sock),
       'the relay lived through it all, exits 0 on SIGTERM and removes its '
       'socket', relay.tail())


try:
    main()
except Exception as e:
    ok(False, 'the self-test ran to its end', repr(e))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    print('1..%d' % count, flush=True)
    if failed:
        diag('files kept in ' + tmp)
    else:
        subprocess.run(['rm', '-rf', tmp])
sys.exit(1 if failed or count == 0 else 0)
PYTHON
