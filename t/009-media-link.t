# The link between nginx workers and the media worker, against a fake
# media worker (t/lib/fake_media_worker.c) that speaks the real handshake
# and rings and logs every record: the JOIN record nginx builds after
# admission (with the role and the guest token's hash; nginx adds the
# token to the welcome), SIGNAL records both ways, the worker's CLOSE,
# LEAVE when a WebSocket ends for any reason, 1012 for every WebSocket
# when the media worker goes away, reconnecting when it is back, refusing
# another protocol version, one ring slot per nginx worker, and 1001 on
# reload with DETACH instead of LEAVE, and the RESUME on a new worker.

use lib 't/lib';
use Test::More import => [qw(note)];
use Test::Nginx::Socket;
use RoomsTest;
use RoomsFake;
use Cwd ();
use Time::HiRes qw(sleep time);

plan('no_plan');

sub master_pid {
    my $root = $ENV{TEST_NGINX_SERVROOT} || Cwd::cwd() . '/t/servroot';
    open my $in, '<', "$root/logs/nginx.pid" or return 0;
    my $pid = <$in>;
    chomp $pid;
    return $pid;
}

# the nginx workers: the master's children
sub worker_pids {
    my $master = master_pid();
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $in, '<', $stat or next;
        my $line = <$in> // '';
        close $in;
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $master;
    }
    return @pids;
}

sub join_frame {
    my ($name) = @_;
    return RoomsTest::ws_frame(text => qq{{"type":"join","name":"$name"}});
}

# joins as $name; while the link comes up, joins are refused: retry
sub ws_join {
    my ($name, $timeout) = @_;
    my $path = RoomsTest::fill('/api/rooms/{{code}}/ws');
    my $deadline = time + ($timeout // 5);
    for (;;) {
        my ($ws) = RoomsTest::ws_open($path, join_frame($name));
        return (undef, 'no 101') unless $ws;
        my $got = RoomsTest::ws_recv($ws, 1);
        return ($ws, $got) unless $got =~ /media_unavailable/
                                  && time < $deadline;
        close $ws;
        sleep 0.1;
    }
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    if ($name =~ /signaling round trip/) {
        my $mark = length fake_log();
        my ($ws, $got) = ws_join('  Ada ');
        like($got, qr/^text \{"type":"welcome","id":"p\d+","participants":\[\],"guest_token":"[A-Za-z0-9_-]{22}","resume_token":"[A-Za-z0-9_-]{22}"\}\n$/,
             'the welcome comes from the media worker, nginx adds a new guest token and a resume token');
        my ($token) = $got =~ /"guest_token":"([^"]+)"/;
        like(fake_since($mark),
             qr/^JOIN slot=\d+ n=\d+ \{"room":\d+,"code":"\Q$RoomsTest::Vars{code}\E","rev":0,"max":7,"name":"Ada","role":"guest","token":"[0-9a-f]{64}","locked":false,"admission":"open","host_absent":"stay_open","grace":30000,"video_slots":16,"audio_slots":3,"resume":"[0-9a-f]{64}"\}$/m,
             'the JOIN record carries the room nginx checked (its admission too), the name trimmed, the role, the token hash and the resume token\'s');
        my ($hash) = fake_since($mark) =~ /"token":"([0-9a-f]{64})"/;
        require Digest::SHA;
        is($hash, Digest::SHA::sha256_hex($token // ''),
           'the token hash is the SHA-256 of the token the browser got');
        unlike(fake_since($mark), qr/\Q$token\E/, 'the token itself never reaches the worker');

        RoomsTest::ws_send($ws, RoomsTest::ws_frame(text =>
            '{"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}'));
        is(RoomsTest::ws_recv($ws, 1),
           qq{text {"type":"answer","sdp":"v=0","streams":{}}\n},
           'an offer is answered');
        like(fake_since($mark),
             qr/^SIGNAL \{"type":"offer","sdp":"v=0\\r\\no=- 1 1 IN IP4 0\.0\.0\.0\\r\\n"\}$/m,
             'the offer reached the worker verbatim');

        RoomsTest::ws_send($ws, RoomsTest::ws_frame(text =>
            '{"type":"view","ids":["b","c"]}'));
        ok(fake_wait($mark,
                     qr/^SIGNAL \{"type":"view","ids":\["b","c"\]\}$/m),
           'a view reaches the worker verbatim');

        RoomsTest::ws_send($ws,
            RoomsTest::ws_frame(ping => 'x'),
            RoomsTest::ws_frame(text => '{"type":"media","audio":true,"video":false}'));
        is(RoomsTest::ws_recv($ws, 2),
           "pong x\n"
           . qq{text {"type":"participant_media","id":"x","audio":true,"video":false}\n},
           'a ping and a media change');

        RoomsTest::ws_send($ws, RoomsTest::ws_frame(text => '{"type":"join","name":"Bob"}'));
        is(RoomsTest::ws_recv($ws, 3),
           qq{text {"type":"error","code":"bad_message","message":"already joined"}\n}
           . "close 4400 bad_message\nEOF\n", 'a second join is refused');
        ok(fake_wait($mark, qr/^LEAVE n=\d+$/m), 'and the worker is told');
        unlike(fake_since($mark), qr/"name":"Bob"/, 'the second join never reached it');
    }

    if ($name =~ /the client closes/) {
        my $mark = length fake_log();
        my ($ws, $got) = ws_join('Ada');
        like($got, qr/welcome/, 'joined');
        my ($n) = fake_since($mark) =~ /^JOIN slot=\d+ n=(\d+)/m;
        RoomsTest::ws_send($ws, RoomsTest::ws_frame(close => 'bye', code => 1000));
        is(RoomsTest::ws_recv($ws, 2), "close 1000 \nEOF\n", 'its close is echoed');
        ok(fake_wait($mark, qr/^LEAVE n=$n$/m), 'LEAVE for its id');

        $mark = length fake_log();
        ($ws, $got) = ws_join('Ada');
        ($n) = fake_since($mark) =~ /^JOIN slot=\d+ n=(\d+)/m;
        close $ws;
        ok(fake_wait($mark, qr/^LEAVE n=$n$/m),
           'LEAVE when the TCP connection just goes away');

        $mark = length fake_log();
        ($ws, $got) = ws_join('Ada');
        RoomsTest::ws_send($ws, RoomsTest::ws_frame(text => '{"type":"leave"}'));
        is(RoomsTest::ws_recv($ws, 2), "close 1000 bye\nEOF\n",
           'a leave message closes');
        ok(fake_wait($mark, qr/^SIGNAL \{"type":"leave"\}\nLEAVE n=\d+$/m),
           'the leave is forwarded, then LEAVE');

        $mark = length fake_log();
        ($ws, $got) = ws_join('Ada');
        RoomsTest::ws_send($ws, RoomsTest::ws_frame(text => '{"type":"media","video":"kick"}'));
        is(RoomsTest::ws_recv($ws, 2), "close 4000 kicked\nEOF\n",
           'a CLOSE record from the worker closes with its code and reason');
        ok(fake_wait($mark, qr/^LEAVE n=\d+$/m), 'and LEAVE follows');

        ($ws, $got) = ws_join('Full');
        is($got . RoomsTest::ws_recv($ws, 2),
           qq{text {"type":"error","code":"room_full","message":"the room is full"}\n}
           . "close 4403 room_full\nEOF\n",
           'the worker refuses a full room');
    }

    if ($name =~ /the media worker goes away/) {
        my ($ws, $got) = ws_join('Ada');
        like($got, qr/welcome/, 'joined');
        my ($ws2) = ws_join('Bob');
        stop_fake();
        is(RoomsTest::ws_recv($ws, 2), "close 1012 media worker restarting\nEOF\n",
           'every WebSocket is closed with 1012');
        is(RoomsTest::ws_recv($ws2, 2), "close 1012 media worker restarting\nEOF\n",
           'every one');

        ($ws, $got) = RoomsTest::ws_open(RoomsTest::fill('/api/rooms/{{code}}/ws'),
                                         join_frame('Ada'));
        like(RoomsTest::ws_recv($ws, 3),
             qr/^text \{"type":"error","code":"media_unavailable",.*\nclose 1013 media_unavailable\nEOF\n$/,
             'joins are refused while it is away');

        my $mark = length fake_log();
        my $t0 = time;
        start_fake();
        ($ws, $got) = ws_join('Ada', 8);
        like($got, qr/welcome/, 'joins work again once it is back');
        cmp_ok(time - $t0, '<', 6, 'within the 5 s backoff');
        like(fake_since($mark), qr/^hello pid=\d+ slot=0/m, 'nginx said hello again');
    }

    if ($name =~ /another protocol version/) {
        stop_fake();
        start_fake('--version', 99);
        my ($ws) = RoomsTest::ws_open(RoomsTest::fill('/api/rooms/{{code}}/ws'));
        sleep 1.5;
        RoomsTest::ws_send($ws, join_frame('Ada'));
        like(RoomsTest::ws_recv($ws, 3),
             qr/^text \{"type":"error","code":"media_unavailable",.*\nclose 1013 media_unavailable\nEOF\n$/,
             'joins are refused');
        like(fake_log(), qr/hello refused: version/, 'the worker refused');
        stop_fake();
        start_fake();
    }

    if ($name =~ /one ring slot per nginx worker/) {
        my @workers = worker_pids();
        is(scalar @workers, 2, 'two nginx workers');
        for my $pid (@workers) {
            ok(fake_wait(0, qr/^hello pid=$pid slot=[01] /m),
               "worker $pid said hello and got a slot of its own");
        }
        my %slots;
        for (1 .. 12) {
            my $m = length fake_log();
            my ($ws, $got) = ws_join('Ada');
            like($got, qr/welcome/, "join $_");
            my ($slot) = fake_since($m) =~ /^JOIN slot=(\d+)/m;
            $slots{$slot}++ if defined $slot;
            close $ws;
        }
        note('joins came through slots ' . join(',', sort keys %slots));
    }

    if ($name =~ /a reload/) {
        my ($ws, $got) = ws_join('Ada');
        like($got, qr/welcome/, 'joined');
        my $mark = length fake_log();
        kill 'HUP', master_pid();
        is(RoomsTest::ws_recv($ws, 2, 10),
           "close 1001 server shutting down\nEOF\n",
           'the old worker closes its WebSockets with 1001');
        ok(fake_wait($mark, qr/^DETACH n=\d+$/m),
           'DETACH, not LEAVE: the browser may resume');
        unlike(fake_since($mark), qr/^LEAVE /m, 'no LEAVE');
        ok(fake_wait($mark, qr/^EOF slot=\d+$/m), 'the old worker left its slot');
        my ($gt) = $got =~ /"guest_token":"([^"]+)"/;
        my ($rt) = $got =~ /"resume_token":"([^"]+)"/;
        my ($r) = RoomsTest::ws_open(
            RoomsTest::fill('/api/rooms/{{code}}/ws'),
            RoomsTest::ws_frame(text => qq{{"type":"resume","resume_token":"$rt","guest_token":"$gt"}}));
        like(RoomsTest::ws_recv($r, 1, 5), qr/"type":"resumed"/,
             'the new worker resumes it (RESUME, then the worker\'s resumed)');
        like(fake_since($mark), qr/^RESUME slot=\d+ n=\d+ \{"room"/m,
             'with a RESUME record');
        ($ws, $got) = ws_join('Ada');
        like($got, qr/welcome/, 'the new worker serves joins');
    }
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig .= <<'_EOC_';
    rooms_media_socket $TEST_NGINX_ROOMS_DIR/media.sock;
_EOC_

$RoomsTest::Config = <<'_EOC_';
    location / {
        rooms;
        rooms_max_participants 7;
    }
_EOC_

start_fake();

master_on();
workers(2);
no_root_location();
no_shuffle();
run_tests();

stop_fake();


__DATA__

=== TEST 1: a room
--- request
POST /api/rooms
{"title":"Linked"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: code
--- error_log
rooms: connected to the media worker at



=== TEST 2: a signaling round trip through the media worker
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- no_error_log
[error]
[alert]



=== TEST 3: the client closes, goes away, leaves, is closed by the worker
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- no_error_log
[error]
[alert]



=== TEST 4: the media worker goes away and comes back
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- error_log eval
[qr/\[error\] .*rooms: lost the media worker \(it closed the control socket\)/,
 qr/\[notice\] .*rooms: connected to the media worker at/]
--- no_error_log
[alert]



=== TEST 5: a media worker of another protocol version is refused
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- error_log
the media worker speaks protocol version 99 and this module version 9



=== TEST 6: one ring slot per nginx worker
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- no_error_log
[error]



=== TEST 7: a reload: the old workers close their WebSockets with 1001, the new ones connect
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- timeout: 15
--- no_error_log
[alert]
open socket
