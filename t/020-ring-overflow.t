# A full ring from the media worker to one nginx worker (issue 11, item
# 2; docs/protocol.md, "Live participant count" and close 4409), through
# two nginx workers and the REAL media worker.  One nginx worker is
# stopped (SIGSTOP) for 10 s while traffic runs through the other:
#
# - room R: its host and a guest are on the stopped worker; 20 guests
#   join R through the other (the counts go up to 22), then a flood of
#   "media" messages in a second room, to a guest on the stopped worker,
#   fills its ring (1 MiB, --ring-capacity); then the 20 leave R, and
#   their counts and participant_left messages are dropped on the full
#   ring;
# - the worker log says so once a second with a count, not once a
#   record;
# - resumed, the stopped worker reads its ring: the old counts in it do
#   not win over the newer ones (their seq is lower), and once it has
#   read most of it the media worker resyncs it: each WebSocket that lost
#   records (both of R, the one of the flood) is closed 4409, and the
#   counts are sent again;
# - R then reports 0 participants, not a phantom 22, and the host's cap
#   change to 2 is accepted (not 409); the host joins again (a welcome
#   with nobody else in), R reports 1; the guest joins again and sees the
#   host, R reports 2.

use lib 't/lib';
use Test::More import => [qw(note)];
use Test::Nginx::Socket;
use RoomsTest;
use RoomsLive;
use JSON::PP;
use Time::HiRes qw(sleep time);

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
our $Worker = worker_path();
our $Sock = "$Dir/worker.sock";
our $WorkerLog = "$Dir/worker.log";

# how long the nginx worker stays stopped, at least (the issue's probe)
our $StopSeconds = 10;

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

plan('no_plan');

my $Stopped;

# the nginx workers: the master's children
sub nginx_workers {
    my $root = $ENV{TEST_NGINX_SERVROOT} || Cwd::cwd() . '/t/servroot';
    open my $in, '<', "$root/logs/nginx.pid" or return ();
    my $master = <$in> // 0;
    close $in;
    chomp $master;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $st, '<', $stat or next;
        my $line = <$st> // '';
        close $st;
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $master;
    }
    return @pids;
}

END { kill 'CONT', $Stopped if $Stopped }

# joins room $code; returns ($ws, the first message, the nginx worker's pid)
sub join_on {
    my ($code, %j) = @_;
    my $deadline = time + 15;
    for (;;) {
        my ($ws, $head) = RoomsTest::ws_open("/api/rooms/$code/ws",
                                             join_frame(%j));
        # a connection the kernel handed to the stopped nginx worker's
        # accept waits for it: try again, the other one takes the next
        next if !$ws && time < $deadline;
        return (undef, undef, 0) unless $ws;
        my ($pid) = ($head // '') =~ /^X-Worker: (\d+)/mi;
        my $f = next_frame($ws) // ['nothing', undef];
        if ($f->[0] =~ /media_unavailable/ && time < $deadline) {
            close $ws;
            sleep 0.1;
            next;
        }
        return ($ws, $f->[1], $pid // 0);
    }
}

sub worker_log { return `cat $WorkerLog` }

# waits for $re in the worker log, $timeout seconds at most
sub wait_log {
    my ($re, $timeout) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 1 if worker_log() =~ $re;
        sleep 0.05;
    }
    return 0;
}

# R's participant count, once it is $want (or what it is after $timeout)
sub count_becomes {
    my ($code, $want, $timeout) = @_;
    my $deadline = time + $timeout;
    my $n;
    while (time < $deadline) {
        $n = get_room($code)->{participants} // -1;
        return $n if $n == $want;
        sleep 0.1;
    }
    return $n;
}

sub check {
    my ($block) = @_;

    my @workers = nginx_workers();
    is(scalar @workers, 2, 'two nginx workers');
    ok(wait_log(qr/nginx worker connected: slot \d+ pid $workers[0]\b/s, 5)
       && wait_log(qr/nginx worker connected: slot \d+ pid $workers[1]\b/s,
                   5), 'both are linked to the media worker');

    my $room = create_room(title => 'Overflow');
    my ($code, $key) = @{$room}{qw(code host_key)};
    my $flood = create_room(title => 'Flood');

    # the host of R, on whichever nginx worker: that one is stopped
    my ($host, $hw, $p) = join_on($code, name => 'Hanna', host_key => $key);
    is($hw && $hw->{role}, 'host', 'the host is in');
    ok($p, "the host's nginx worker: $p");

    # a guest of R and the flood's target, on that same nginx worker
    my ($guest, $target, @other);
    for (1 .. 40) {
        last if $guest && $target;
        my $c = $guest ? $flood->{code} : $code;
        my ($ws, $m, $pid) = join_on($c, name => $guest ? 'Tara' : 'Gina');
        if ($pid != $p) {
            push @other, $ws;
            next;
        }
        ok($m && $m->{type} eq 'welcome', ($guest ? 'the flood target'
                                                  : 'a guest of R')
           . ' is in through the same nginx worker');
        if ($guest) { $target = $ws } else { $guest = $ws }
    }
    ok($guest && $target, 'a guest and the flood target on that worker');
    close $_ for @other;
    is(count_becomes($code, 2, 5), 2, 'R has 2 participants');

    my $drops_before = () = worker_log() =~ /ring to nginx slot/g;

    # ---- the nginx worker stops; everything goes through the other ----
    kill 'STOP', $p;
    $Stopped = $p;
    my $t0 = time;

    my @churn;
    for my $i (1 .. 20) {
        my ($ws, $m, $pid) = join_on($code, name => "Churn $i");
        note("churn $i: pid $pid, " . ($m ? encode_json($m) : 'nothing'))
            unless $ws && $m && $m->{type} eq 'welcome';
        push @churn, $ws if $ws && $m && $m->{type} eq 'welcome';
    }
    is(scalar @churn, 20, '20 guests join R through the other nginx worker');
    is(count_becomes($code, 22, 5), 22, 'R has 22 participants');

    # the flood: media messages in the other room, each one a record on
    # the stopped worker's ring (to the target), until it is full
    my ($flooder, $fm) = join_on($flood->{code}, name => 'Flo');
    is($fm && $fm->{type}, 'welcome', 'the flooder is in the flood room');
    my $full = 0;
    for my $round (1 .. 20) {
        my $frames = '';
        for my $i (1 .. 1000) {
            $frames .= RoomsTest::ws_frame(text => encode_json(
                { type => 'media', audio => ($i % 2 ? JSON::PP::true
                                                    : JSON::PP::false),
                  video => JSON::PP::false }));
        }
        RoomsTest::ws_send($flooder, $frames);
        drain($flooder, 0.05);
        # main's line and this one both say the ring to that slot is full
        last if $full = wait_log(qr/ring to nginx slot \d+.*full/, 0.5);
    }
    ok($full, 'the ring to the stopped nginx worker is full');

    # the 20 leave R: their counts and participant_left are dropped there
    send_json($_, { type => 'leave' }) for @churn;
    close $_ for @churn;
    send_json($flooder, { type => 'leave' });
    close $flooder;
    is(count_becomes($code, 2, 5), 2,
       'R has 2 participants again, as the running nginx worker reads it');

    sleep($StopSeconds - (time - $t0)) if time - $t0 < $StopSeconds;
    kill 'CONT', $p;
    undef $Stopped;
    note(sprintf('the nginx worker was stopped for %.1f s', time - $t0));

    # ---- resumed: what it lost is made right ----
    # (before the 30 s in which a participant must send its offer: nobody
    # here does, and the media worker would remove them all then)
    is(count_becomes($code, 0, 8), 0,
       'R reports 0 participants, not the count left in the stopped ring');

    my ($st, $h, $body) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                          key => $key,
                                          json => { max_participants => 2 });
    is($st, 200, "the host's cap change to 2 is accepted (not 409)");

    # the flood target first: it has the most to read
    like(expect_close($target, 10) // 'nothing', qr/^close 4409 /,
         'the flood target is closed 4409: its records were lost');
    like(expect_close($guest, 5) // 'nothing', qr/^close 4409 /,
         'the guest of R is closed 4409 (participant_left was lost)');
    like(expect_close($host, 5) // 'nothing', qr/^close 4409 /,
         'and so is the host');

    my $log = worker_log();
    my @lines = $log =~ /^.*ring to nginx slot.*$/mg;
    splice @lines, 0, $drops_before;
    my @full = grep { /ring to nginx slot \d+.*(?:full|dropped)/ } @lines;
    my $dropped = 0;
    $dropped += $_ for map { /is full: (\d+) records dropped/ } @full;
    note("drop lines: " . scalar(@full) . ", dropped: $dropped");
    ok($dropped > 0, 'the worker log says how many records were dropped');
    ok(@full >= 1 && @full <= $StopSeconds + 10,
       'in at most one line a second (' . scalar(@full) . ' lines)');
    like($log, qr/ring to nginx slot \d+ \(pid $p\) drained: resynced/,
         'the worker log says the nginx worker was resynced');

    # ---- joining again works, and the room is right ----
    my ($h2, $hw2) = ws_join($code, name => 'Hanna', host_key => $key);
    is($hw2 && $hw2->{type}, 'welcome', 'the host joins again');
    is(scalar @{ $hw2->{participants} // [undef] }, 0,
       'and finds nobody else in the room');
    is(count_becomes($code, 1, 5), 1, 'R reports 1 participant');

    my ($g2, $gw2) = ws_join($code, name => 'Gina');
    is($gw2 && $gw2->{type}, 'welcome', 'the guest joins again');
    is(join(',', map { $_->{name} } @{ $gw2->{participants} // [] }),
       'Hanna', 'and sees the host');
    is(count_becomes($code, 2, 5), 2, 'R reports 2 participants');

    close $_ for $h2, $g2, $guest, $host, $target;
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;
_EOC_

$RoomsTest::Config = <<'_EOC_';
    location / {
        rooms;
        add_header X-Worker $pid always;
    }
_EOC_

# rings of 1 MiB (the default is 16 MiB): the flood below fills that
start_worker($Sock, $WorkerLog, '--ring-capacity', 1048576,
             $> == 0 ? ('--socket-user', 'nobody') : ());

master_on();
workers(2);
worker_connections(256);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: a stopped nginx worker's full ring is resynced when it resumes
--- request
GET /
--- error_code: 200
--- timeout: 120
--- no_error_log
[alert]
[crit]
