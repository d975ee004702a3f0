# The wrapper of every browser end-to-end test (tests/e2e/*.t): checks
# what the run needs, runs one scenario (a .mjs that prints TAP) as root
# inside a network namespace that has only `lo` (DESIGN.md §5: otherwise
# Chromium prefers its eth address even when the server offers only
# 127.0.0.1), enforces the hard deadline, and kills everything the run
# started (its own process group, and whatever is left in the namespace)
# however it ends.  Usage, from a .t:
#
#     use lib dirname(__FILE__);
#     use Scenario;
#     Scenario::run('first-call.mjs', 150);
#
# With { veth => 1 } the namespace also has a veth pair, rv0 and rv1,
# up, with 10.99.0.1/24 and fd99::1/64 on rv0 and 10.99.0.2/24 and
# fd99::2/64 on rv1 (lib.mjs: vethAddrs): addresses that are not
# loopback, so Chromium can run without --allow-loopback-in-peer-
# connection and the media worker announces its own addresses.
#
#     Scenario::run('net-default.mjs', 150, { veth => 1 });

package Scenario;

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use POSIX qw(setpgid WNOHANG);

sub run {
    # the .mjs, seconds (over the scenario's own deadline), options
    my ($name, $deadline, $opt) = @_;
    $opt //= {};
    my $top = abs_path(dirname(__FILE__) . '/../..');
    my $script = "$top/tests/e2e/$name";

    $| = 1;

    my $have = sub {
        system("command -v $_[0] >/dev/null 2>&1") == 0;
    };

    my @missing;
    push @missing, 'run as root (unshare -n needs it)' if $> != 0;
    push @missing, "$_ (Debian package)" for grep { !$have->($_) }
        qw(node unshare ip ss), @{ $opt->{need} // [] };
    push @missing, '/usr/bin/chromium (Debian package chromium)'
        unless -x '/usr/bin/chromium';
    push @missing, 'tests/e2e/node_modules (make e2e-deps)'
        unless -d "$top/tests/e2e/node_modules/playwright-core";
    push @missing, 'build/ngx_rooms_module.so (make module)'
        unless -f "$top/build/ngx_rooms_module.so";

    if (@missing) {
        print "1..1\nnot ok 1 - the browser tests can run\n";
        print "# missing: $_\n" for @missing;
        exit 1;
    }

    # under `make test-pg`, the suite's own PostgreSQL database
    # (t/lib/RoomsStore.pm, dropped when this process ends)
    if ($ENV{ROOMS_TEST_PGHOST}) {
        require lib;
        lib->import("$top/t/lib");
        require RoomsStore;
        $ENV{ROOMS_E2E_STORE} = RoomsStore::store_new('e2e');
    }

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        setpgid(0, 0);
        chdir "$top/tests/e2e" or die "chdir: $!";
        my $setup = 'ip link set lo up';
        # nodad: the IPv6 addresses are usable at once (no tentative state)
        $setup .= ' && ip link add rv0 type veth peer name rv1'
                . ' && ip addr add 10.99.0.1/24 dev rv0'
                . ' && ip addr add 10.99.0.2/24 dev rv1'
                . ' && ip -6 addr add fd99::1/64 dev rv0 nodad'
                . ' && ip -6 addr add fd99::2/64 dev rv1 nodad'
                . ' && ip link set rv0 up && ip link set rv1 up'
                # the link-local addresses the kernel adds at link-up stay
                # tentative for about a second (DAD); Chromium started
                # before they settle sees the network change and aborts the
                # page's loads (net::ERR_NETWORK_CHANGED: a page that never
                # loaded its scripts, once in a few runs on a busy machine)
                . ' && n=0; while [ -n "$(ip -6 addr show tentative)" ]'
                . ' && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done'
            if $opt->{veth};
        exec 'unshare', '-n', 'sh', '-c',
             $setup . ' && exec node "$0"', $script;
        die "exec unshare: $!";
    }

    setpgid($pid, $pid);

    # The namespace the run lives in: Chromium makes its own process group
    # (Playwright launches it detached), so what is left is found by namespace.
    my $host_ns = readlink '/proc/self/ns/net';
    my $ns;
    for (1 .. 100) {
        my $n = readlink "/proc/$pid/ns/net";
        last unless defined $n;
        if ($n ne $host_ns) { $ns = $n; last }
        select undef, undef, undef, 0.05;
    }

    my $kill_namespace = sub {
        my $sig = shift;
        return unless defined $ns;
        for my $dir (glob '/proc/[0-9]*') {
            my $n = readlink "$dir/ns/net";
            kill $sig, (split m{/}, $dir)[2] if defined $n && $n eq $ns;
        }
    };

    my $killed = 0;

    my $kill_all = sub {
        my $why = shift;
        return if $killed++;
        print "# $why: stopping the run\n";
        kill 'TERM', -$pid;
        for (1 .. 50) {
            last if waitpid($pid, WNOHANG) == $pid && kill(0, -$pid) == 0;
            select undef, undef, undef, 0.1;
        }
        kill 'KILL', -$pid;
        $kill_namespace->('KILL');
    };

    $SIG{ALRM} = sub { $kill_all->("hard deadline of $deadline s") };
    $SIG{$_} = sub { $kill_all->("signal $_[0]"); exit 1 }
        for qw(INT TERM HUP);

    alarm $deadline;
    waitpid $pid, 0;
    my $status = $?;
    alarm 0;

    # whatever the run left behind (it should have stopped it all)
    kill 'KILL', -$pid if kill 0, -$pid;
    $kill_namespace->('KILL');

    # killed: the run reported it (or, if it hung, prove sees no plan)
    exit 1 if $killed;

    exit($status >> 8 || ($status & 127 ? 1 : 0));
}

1;
