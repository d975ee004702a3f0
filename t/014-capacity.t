# The cap at its default, 50, when joins race (docs/protocol.md,
# "Capacity"), through two nginx workers and the REAL media worker:
#
# - the host is in; 51 guests open their WebSockets first, over a
#   reuseport listener that spreads them over both nginx workers, then
#   send their joins back to back: exactly 49 are welcome (max - 1 for
#   guests, the host holds the 50th place) and 2 get room_full and close
#   4403;
# - GET /api/rooms/<code> then reports 50 participants;
# - one more guest afterwards is refused room_full.

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

our $Port2 = $ENV{TEST_NGINX_ROOMS_PORT2} ||= server_port() + 9;

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

plan('no_plan');

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

sub check {
    my ($block) = @_;

    my $room = create_room(title => 'Fifty');
    my ($code, $key) = @{$room}{qw(code host_key)};
    is($room->{max_participants}, 50, 'the default cap is 50');

    # both nginx workers linked to the media worker before anyone joins
    my @workers = nginx_workers();
    is(scalar @workers, 2, 'two nginx workers');
    my $deadline = time + 5;
    my $linked = 0;
    while (time < $deadline) {
        my $log = `cat $WorkerLog`;
        $linked = grep { $log =~ /nginx worker connected: slot \d+ pid $_\b/ }
                  @workers;
        last if $linked == 2;
        sleep 0.05;
    }
    is($linked, 2, 'both are linked to the media worker');

    my ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
    is($hw && $hw->{role}, 'host', 'the host is in');

    # 51 upgraded WebSockets, on both nginx workers
    my (@socks, %by);
    for my $i (1 .. 51) {
        my ($ws, $head) = RoomsTest::ws_open("/api/rooms/$code/ws", undef,
                                             port => $Port2);
        last unless $ws;
        my ($pid) = ($head // '') =~ /^X-Worker: (\d+)/mi;
        $by{$pid // '?'}++;
        push @socks, $ws;
    }
    is(scalar @socks, 51, '51 WebSockets are open');
    note('by nginx worker: ' . join(', ', map { "$_: $by{$_}" } keys %by));
    is(scalar(keys %by), 2, 'spread over both nginx workers');

    # the joins, as close together as one process can send them
    my @frames = map { join_frame(name => "Guest $_") } 1 .. @socks;
    RoomsTest::ws_send($socks[$_], $frames[$_]) for 0 .. $#socks;

    my (%got, @full);
    for my $i (0 .. $#socks) {
        my $f = next_frame($socks[$i], 10);
        my $m = $f && ref $f->[1] ? $f->[1] : {};
        my $what = ($m->{type} // 'none') . ' '
                   . ($m->{code} // $m->{role} // '-');
        $got{$what}++;
        push @full, $socks[$i] if $what eq 'error room_full';
    }
    note('race: ' . join(', ', map { "$_: $got{$_}" } sort keys %got));
    is($got{'welcome guest'} // 0, 49,
       '51 guests race at max 50 with the host in: 49 are welcome');
    is($got{'error room_full'} // 0, 2, 'two get room_full');
    like(expect_close($_) // '', qr/^close 4403/, 'and close 4403')
        for @full;

    my $count = 0;
    $deadline = time + 5;
    while (time < $deadline) {
        $count = get_room($code)->{participants} // 0;
        last if $count == 50;
        sleep 0.05;
    }
    is($count, 50, 'GET reports 50 participants');

    my ($late, $lm) = ws_join($code, name => 'Late');
    is($lm && $lm->{code}, 'room_full', 'one more guest: room_full');

    close $_ for @socks;
    close $host;
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
            add_header X-Worker \$pid always;
        }
    }
_EOC_

start_worker($Sock, $WorkerLog);

master_on();
workers(2);
worker_connections(256);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: 51 guests race for 49 places at the default cap
--- request
GET /
--- error_code: 200
--- timeout: 60
--- no_error_log
[error]
[alert]
[crit]
