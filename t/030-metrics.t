# /metrics (rooms_metrics, README "Monitoring") through two nginx workers
# and the REAL media worker:
#
# - the page parses as Prometheus text with Python's prometheus_client
#   parser (Debian's python3-prometheus-client); every family has HELP and
#   a TYPE, counters end in _total, and the labels are the fixed sets;
# - a scripted sequence moves the counters by exactly what it did: a
#   create and joins (joins, participants, rooms with people, WebSocket
#   connections), a lock and a refused join (host_actions lock, refusals
#   locked), a knock room's lobby (waiting 1, then admit: waiting 0, one
#   more join), a refusal from the media worker (room_full), a leave and
#   the closes (back to 0);
# - both nginx workers serve the same figures (the counts are shared), and
#   the joins themselves went through a reuseport listener both serve;
# - only GET and HEAD: a POST is 405.

use lib 't/lib';
use Test::More import => [qw(note)];
use Test::Nginx::Socket;
use RoomsTest;
use RoomsLive;
use IPC::Open2 qw(open2);
use JSON::PP;
use Time::HiRes qw(sleep time);

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
our $Worker = worker_path();
our $Sock = "$Dir/worker.sock";
our $WorkerLog = "$Dir/worker.log";

# a second listener with reuseport: its connections go to both workers
our $Port2 = $ENV{TEST_NGINX_ROOMS_PORT2} ||= server_port() + 9;

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

# Debian's python3 (a python3 earlier on PATH may lack the package)
if (system('/usr/bin/python3', '-c',
           'from prometheus_client.parser import text_string_to_metric_families')
    != 0)
{
    plan(skip_all => 'no python3-prometheus-client: make deps');
}

plan('no_plan');

# The page parsed by prometheus_client: {families => {name => {type, help}},
# samples => {'name{k="v",...}' => value}, worker => pid}, or the error.
my $Parser = <<'PY';
import json, sys
from prometheus_client.parser import text_string_to_metric_families
fams, samples = {}, {}
try:
    for f in text_string_to_metric_families(sys.stdin.read()):
        fams[f.name] = {"type": f.type, "help": f.documentation}
        for s in f.samples:
            labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
            samples[s.name + ("{" + labels + "}" if labels else "")] = s.value
    print(json.dumps({"families": fams, "samples": samples}))
except Exception as e:
    print(json.dumps({"error": str(e)}))
PY

sub parse {
    my ($text) = @_;
    my $pid = open2(my $out, my $in, '/usr/bin/python3', '-c', $Parser);
    print $in $text;
    close $in;
    local $/;
    my $json = <$out>;
    waitpid $pid, 0;
    return decode_json($json);
}

# GET /metrics on $port: (parsed page, the worker's pid, the raw text)
sub metrics {
    my ($port) = @_;
    my ($st, $h, $body) = RoomsTest::http('GET', '/metrics',
                                          $port ? (port => $port) : ());
    my $m = $st == 200 ? parse($body) : { error => "status $st" };
    return ($m, $h->{'x-worker'}, $body, $h);
}

# one sample's value (0 for none)
sub v {
    my ($m, $name) = @_;
    return $m->{samples}{$name} // 0;
}

# reads until $name is $want (media worker records are asynchronous; its
# STATS come every 5 s), at most $secs (5) s; returns the last page
sub wait_for {
    my ($name, $want, $secs) = @_;
    my $deadline = time + ($secs // 5);
    my $m;
    for (;;) {
        ($m) = metrics();
        return $m if v($m, $name) == $want || time > $deadline;
        sleep 0.05;
    }
}

# the page from each nginx worker, through the reuseport listener:
# {pid => parsed page}
sub by_worker {
    my %seen;
    my $deadline = time + 5;
    while (keys %seen < 2 && time < $deadline) {
        my ($m, $pid) = metrics($Port2);
        $seen{$pid} //= $m if $pid;
    }
    return \%seen;
}

# the counters and gauges a change may move, for comparisons
my @Watched = (
    'rooms_active_rooms', 'rooms_participants', 'rooms_lobby_waiting',
    'rooms_websocket_connections', 'rooms_joins_total',
    'rooms_join_refusals_total{reason="locked"}',
    'rooms_join_refusals_total{reason="room_full"}',
    'rooms_join_refusals_total{reason="not_found"}',
    'rooms_host_actions_total{kind="lock"}',
    'rooms_host_actions_total{kind="admit"}',
    'rooms_host_actions_total{kind="remove"}',
    'rooms_store_errors_total',
    'rooms_media_ring_pushes_refused_total{reason="full"}',
    'rooms_media_link_reconnects_total',
);

# is each watched figure of $m its value in $before plus $delta{name}?
sub moved {
    my ($before, $m, $what, %delta) = @_;
    my @bad;
    for my $n (@Watched) {
        my $want = v($before, $n) + ($delta{$n} // 0);
        push @bad, "$n: ${\ v($m, $n)}, not $want" if v($m, $n) != $want;
    }
    ok(!@bad, $what) or diag(join "\n", @bad);
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    if ($name =~ /parses/) {
        # the media worker's figures come with its first STATS record
        my $deadline = time + 8;
        my ($m, $pid, $text, $h);
        for (;;) {
            ($m, $pid, $text, $h) = metrics();
            last if $text =~ /^rooms_media_participants /m || time > $deadline;
            sleep 0.2;
        }
        ok(!$m->{error}, 'prometheus_client parses the page')
            or diag($m->{error}, "\n", $text);
        like($h->{'content-type'} // '', qr{^text/plain; version=0\.0\.4},
             'Content-Type: the text format 0.0.4');

        my %want = (
            rooms_active_rooms => 'gauge',
            rooms_participants => 'gauge',
            rooms_lobby_waiting => 'gauge',
            rooms_websocket_connections => 'gauge',
            rooms_joins => 'counter',
            rooms_join_refusals => 'counter',
            rooms_host_actions => 'counter',
            rooms_store_errors => 'counter',
            rooms_media_ring_pushes_refused => 'counter',
            rooms_media_link_reconnects => 'counter',
            rooms_webhook_events_sent => 'counter',
            rooms_webhook_deliveries_failed => 'counter',
            rooms_webhook_events_dropped => 'counter',
            rooms_calls_moved => 'counter',
            rooms_media_participants => 'gauge',
            rooms_media_packets_received => 'counter',
            rooms_media_packets_sent => 'counter',
            rooms_media_packets_forwarded => 'counter',
            rooms_media_packets_dropped => 'counter',
            rooms_media_nacks_sent => 'counter',
            rooms_media_nack_resends => 'counter',
            rooms_media_plis_sent => 'counter',
            rooms_media_joins => 'counter',
            rooms_media_joins_refused => 'counter',
            rooms_media_ice_timeouts => 'counter',
            rooms_media_cpu_seconds => 'counter',
            rooms_media_resident_memory_bytes => 'gauge',
            rooms_media_workers => 'gauge',
            rooms_media_worker_participants => 'gauge',
            rooms_media_worker_cpu_seconds => 'counter',
        );
        for my $f (sort keys %want) {
            my $got = $m->{families}{$f};
            is($got && $got->{type}, $want{$f}, "$f: TYPE $want{$f}");
            ok($got && length $got->{help} > 10, "$f: a HELP line");
        }
        is(scalar keys %{ $m->{families} }, scalar keys %want,
           'and no other family');

        # counters end in _total in the text; labels are fixed sets
        my @names = $text =~ /^(\w+)[{ ]/mg;
        for my $n (@names) {
            my ($t) = $text =~ /^# TYPE \Q$n\E (\w+)$/m;
            next unless $t;
            ok($t ne 'counter' || $n =~ /_total$/, "$n: a counter is _total")
                if $t eq 'counter';
        }
        my %reasons = map { /reason="(\w+)"/ ? ($1 => 1) : () }
                      grep { /^rooms_join_refusals_total/ } split /\n/, $text;
        is(join(',', sort keys %reasons),
           'denied,gone,internal_error,lobby_full,locked,media_unavailable,'
           . 'not_found,not_started,policy_denied,removed,room_ended,room_full,'
           . 'storage_unavailable', 'refusal reasons: the fixed set');
        my %kinds = map { /kind="(\w+)"/ ? ($1 => 1) : () }
                    grep { /^rooms_host_actions_total/ } split /\n/, $text;
        is(join(',', sort keys %kinds),
           'admit,cohost,deny,end,lock,mute,remove,stop_share,uncohost',
           'host action kinds: the host-only message types');

        ok(v($m, 'rooms_media_resident_memory_bytes') > 1e6,
           'the media worker\'s resident memory: over 1 MB');
        ok(v($m, 'rooms_media_cpu_seconds_total') > 0,
           'its CPU time: more than 0');

        my ($st) = RoomsTest::http('POST', '/metrics', json => {});
        is($st, 405, 'POST /metrics: 405');
        ($st) = RoomsTest::http('HEAD', '/metrics');
        is($st, 200, 'HEAD /metrics: 200');
    }

    if ($name =~ /counters move/) {
        # after nginx's restart, the worker's next STATS (5 s at most)
        my ($m0) = metrics();
        my $deadline = time + 8;
        while (!exists $m0->{samples}{rooms_media_joins_total}
               && time < $deadline)
        {
            sleep 0.2;
            ($m0) = metrics();
        }
        ok(exists $m0->{samples}{rooms_media_joins_total},
           'the media worker\'s figures are there');
        is(v($m0, 'rooms_websocket_connections'), 0, 'no WebSocket yet');

        # a create and three joins, through the listener both workers serve
        my $room = create_room(title => 'Metrics', max_participants => 4);
        my ($code, $key) = @{$room}{qw(code host_key)};
        my ($host, $w) = ws_join($code, name => 'Hanna', host_key => $key,
                                 port => $Port2);
        is($w->{type}, 'welcome', 'the host is in');
        my @g;
        for my $n (1 .. 2) {
            my ($g, $gw) = ws_join($code, name => "Guest$n", port => $Port2);
            is($gw->{type}, 'welcome', "guest $n is in");
            push @g, [$g, $gw->{id}];
            expect_type($host, 'participant_joined');
        }
        my $m = wait_for('rooms_participants', 3);
        moved($m0, $m, 'three joins: joins +3, 3 people, 1 room, 3 sockets',
              'rooms_joins_total' => 3, 'rooms_participants' => 3,
              'rooms_active_rooms' => 1, 'rooms_websocket_connections' => 3);

        # both workers say the same
        my $w2 = by_worker();
        is(scalar keys %$w2, 2, 'two nginx workers answered /metrics');
        my @pages = values %$w2;
        moved($pages[0], $pages[1], 'and both say exactly the same')
            if @pages == 2;

        # a lock, then a refused join
        my $m1 = $m;
        send_json($host, { type => 'lock', locked => JSON::PP::true });
        expect_type($host, 'room');
        my ($n, $nm) = ws_join($code, name => 'Nina', port => $Port2);
        is($nm && $nm->{code}, 'locked', 'a new guest: locked');
        expect_close($n);
        close $n;
        $m = wait_for('rooms_websocket_connections', 3);
        moved($m1, $m, 'lock: host_actions lock +1, refusals locked +1',
              'rooms_host_actions_total{kind="lock"}' => 1,
              'rooms_join_refusals_total{reason="locked"}' => 1);

        # the media worker's refusal: the fourth place is the last
        $m1 = $m;
        send_json($host, { type => 'lock', locked => JSON::PP::false });
        expect_type($host, 'room');
        my ($g3, $g3w) = ws_join($code, name => 'Guest3', port => $Port2);
        is($g3w->{type}, 'welcome', 'a third guest fills the room');
        my ($f, $fm) = ws_join($code, name => 'Fred', port => $Port2);
        is($fm && $fm->{code}, 'room_full', 'a fourth: room_full');
        expect_close($f);
        close $f;
        $m = wait_for('rooms_participants', 4);
        $m = wait_for('rooms_websocket_connections', 4);
        moved($m1, $m, 'unlock, a join, room_full: lock +1, joins +1, '
              . 'room_full +1, 4 people',
              'rooms_host_actions_total{kind="lock"}' => 1,
              'rooms_joins_total' => 1, 'rooms_participants' => 1,
              'rooms_websocket_connections' => 1,
              'rooms_join_refusals_total{reason="room_full"}' => 1);

        # the lobby of a knock room
        $m1 = $m;
        my $k = create_room(title => 'Knock', admission => 'knock');
        my ($kh, $khw) = ws_join($k->{code}, name => 'Kate',
                                 host_key => $k->{host_key}, port => $Port2);
        is($khw->{type}, 'welcome', 'the knock room host is in');
        my ($kg, $kgw) = ws_join($k->{code}, name => 'Karl', port => $Port2);
        is($kgw && $kgw->{type}, 'waiting', 'a guest waits');
        my $knock = expect_type($kh, 'knock');
        $m = wait_for('rooms_participants', 5);
        moved($m1, $m, 'a host and a waiting guest: joins +1, waiting 1, '
              . '2 rooms, 6 sockets',
              'rooms_joins_total' => 1, 'rooms_participants' => 1,
              'rooms_active_rooms' => 1, 'rooms_lobby_waiting' => 1,
              'rooms_websocket_connections' => 2);

        $m1 = $m;
        send_json($kh, { type => 'admit', id => $knock ? $knock->{id} : '' });
        ok(expect_type($kg, 'welcome'), 'admitted');
        $m = wait_for('rooms_participants', 6);
        moved($m1, $m, 'admit: admit +1, joins +1, waiting 0, 6 people',
              'rooms_host_actions_total{kind="admit"}' => 1,
              'rooms_joins_total' => 1, 'rooms_participants' => 1,
              'rooms_lobby_waiting' => -1);

        # a removal and a leave
        $m1 = $m;
        send_json($host, { type => 'remove', id => $g[0][1] });
        expect_type($g[0][0], 'error');
        expect_close($g[0][0]);
        close $g[0][0];
        send_json($g[1][0], { type => 'leave' });
        expect_close($g[1][0]);
        close $g[1][0];
        $m = wait_for('rooms_participants', 4);
        $m = wait_for('rooms_websocket_connections', 4);
        moved($m1, $m, 'a removal and a leave: remove +1, 2 people and '
              . '2 sockets fewer (a removal is no refusal)',
              'rooms_host_actions_total{kind="remove"}' => 1,
              'rooms_participants' => -2,
              'rooms_websocket_connections' => -2);

        # everyone goes
        close $_ for $host, $g3, $kh, $kg;
        $m = wait_for('rooms_websocket_connections', 0);
        $m = wait_for('rooms_participants', 0);
        is(v($m, 'rooms_websocket_connections'), 0, 'all closed: 0 sockets');
        is(v($m, 'rooms_participants'), 0, '0 people');
        is(v($m, 'rooms_active_rooms'), 0, '0 rooms with people');
        is(v($m, 'rooms_lobby_waiting'), 0, 'nobody waiting');
        # the media worker's own count, from its STATS records
        my $mj = v($m0, 'rooms_media_joins_total') + 6;
        $m = wait_for('rooms_media_joins_total', $mj, 8);
        is(v($m, 'rooms_media_joins_total'), $mj,
           'the media worker took 6 joins (its STATS)');
        is(v($m, 'rooms_media_joins_refused_total'),
           v($m0, 'rooms_media_joins_refused_total') + 1,
           'and refused 1 (room_full; the lock was nginx\'s)');
        $m = wait_for('rooms_media_participants', 0, 8);
        is(v($m, 'rooms_media_participants'), 0, 'and has nobody now');

        moved($m0, $m, 'over the whole sequence: joins +6, 2 refusals, '
              . '4 host actions, no store error, no ring refusal',
              'rooms_joins_total' => 6,
              'rooms_join_refusals_total{reason="locked"}' => 1,
              'rooms_join_refusals_total{reason="room_full"}' => 1,
              'rooms_host_actions_total{kind="lock"}' => 2,
              'rooms_host_actions_total{kind="admit"}' => 1,
              'rooms_host_actions_total{kind="remove"}' => 1);
    }
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;

    server {
        listen 127.0.0.1:$Port2 reuseport;
        location / {
            rooms;
        }
        location = /metrics {
            rooms_metrics;
            add_header X-Worker \$pid always;
        }
    }
_EOC_

$RoomsTest::Config = <<'_EOC_';
    location / {
        rooms;
    }
    location = /metrics {
        rooms_metrics;
    }
_EOC_

start_worker($Sock, $WorkerLog);

master_on();
workers(2);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: the page parses as Prometheus text
--- request
GET /
--- error_code: 200
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: the counters move as the calls go, on both nginx workers
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]
[alert]
[crit]
