# Hosts, guests and removal over the WebSocket (docs/protocol.md "Hosts,
# guests and removal"), end to end through two nginx workers and the REAL
# media worker (build/rooms-worker, started here on a unix socket in
# TEST_NGINX_ROOMS_DIR and a free UDP port):
#
# - a join with the host key is a host's; a well-formed wrong key is a
#   guest's; every welcome carries a guest token (a new one, or the one
#   the join brought);
# - remove, lock and end from a guest: not_host, the connection stays
#   open, and the room is unchanged (GET /api/rooms/<code>);
# - the host removes a guest: removed and close 4403 for it,
#   participant_left for the others, a ban row in the SQLite file; that
#   guest's token is refused "removed" on every later join: at once, after
#   the host unlocks the room, and after nginx restarts;
# - mute reaches its target as mute_request; an unknown id is
#   no_such_participant;
# - stop_share from a guest: not_host; of someone not sharing:
#   no_such_participant; a second share: share_taken; from the host:
#   share_stopped to the sharer;
# - lock over the WebSocket: everyone hears {"type":"room"}, a new guest
#   gets "locked", the host still gets back in;
# - PATCH locked over HTTP reaches the people in the room; DELETE over
#   HTTP, and end over the WebSocket, close everyone with room_ended and
#   4403;
# - the cap at max_participants 4: six guests race their joins over a
#   reuseport listener served by both nginx workers: exactly three are
#   welcome (max - 1) and three get room_full; then the host gets in.

use lib 't/lib';
use Test::More import => [qw(note)];
use Test::Nginx::Socket;
use RoomsTest;
use RoomsStore;
use RoomsLive;
use Digest::SHA qw(sha256_hex);
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
our $Worker = worker_path();
our $Sock = "$Dir/worker.sock";
our $WorkerLog = "$Dir/worker.log";
our $Db = $ENV{TEST_NGINX_ROOMS_STORE};

# a second listener with reuseport: the kernel spreads its connections over
# both nginx workers, so the race really runs on two
our $Port2 = $ENV{TEST_NGINX_ROOMS_PORT2} ||= server_port() + 9;

# what one block learns and a later one uses
our %S;

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

plan('no_plan');

sub sql {
    my $q = shift;
    my $out = store_query($Db, $q);
    chomp $out;
    return $out;
}

# another key of the right shape: a guest's
sub wrong_key {
    my ($key) = @_;
    my $w = $key;
    substr($w, 0, 1) = substr($w, 0, 1) eq 'A' ? 'B' : 'A';
    return $w;
}

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

sub ban_rows {
    my ($code, $token) = @_;
    my $hash = sha256_hex($token);
    return sql("SELECT count(*) FROM bans WHERE room_id = (SELECT id FROM "
               . "rooms WHERE code = '$code') AND token_hash = "
               . store_blob($hash));
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    if ($name =~ /hosts, guests and removal/) {
        my $room = create_room(title => 'Hosts');
        my ($code, $key) = @{$room}{qw(code host_key)};
        @S{qw(code key)} = ($code, $key);

        # the host
        my ($host, $w) = ws_join($code, name => 'Hanna', host_key => $key);
        ok($host, 'the host is upgraded');
        is($w->{type}, 'welcome', 'the host is welcome');
        is($w->{role}, 'host', 'with the host key: role host');
        ok(JSON::PP::is_bool($w->{locked}) && !$w->{locked},
           'welcome: locked false');
        like($w->{guest_token} // '', qr/^[A-Za-z0-9_-]{22}$/,
             'welcome: a new guest token');
        my $host_id = $w->{id};

        # a guest, new to the room
        my ($g, $gw) = ws_join($code, name => 'Gino');
        is($gw->{role}, 'guest', 'without a key: role guest');
        my $token = $gw->{guest_token} // '';
        like($token, qr/^[A-Za-z0-9_-]{22}$/, 'the guest gets a token');
        isnt($token, $w->{guest_token}, 'its own');
        my ($seen) = grep { $_->{id} eq $host_id } @{ $gw->{participants} };
        is($seen && $seen->{role}, 'host', 'it sees the host, with its role');
        my $pj = expect_type($host, 'participant_joined');
        is($pj && $pj->{role}, 'guest', 'the host sees a guest join');
        my $g_id = $gw->{id};

        # a well-formed key that is not this room's: a guest
        my ($wk, $wkw) = ws_join($code, name => 'Wanda',
                                 host_key => wrong_key($key));
        is($wkw->{type}, 'welcome', 'a wrong host key still joins');
        is($wkw->{role}, 'guest', 'as a guest');
        expect_type($host, 'participant_joined');
        expect_type($g, 'participant_joined');

        # a guest's host actions
        send_json($g, { type => 'remove', id => $host_id });
        my $e = expect_type($g, 'error');
        is($e && $e->{code}, 'not_host', 'remove from a guest: not_host');
        send_json($g, { type => 'lock', locked => JSON::PP::true });
        $e = expect_type($g, 'error');
        is($e && $e->{code}, 'not_host', 'lock from a guest: not_host');
        send_json($g, { type => 'end' });
        $e = expect_type($g, 'error');
        is($e && $e->{code}, 'not_host', 'end from a guest: not_host');
        send_json($wk, { type => 'mute', id => $g_id });
        $e = expect_type($wk, 'error');
        is($e && $e->{code}, 'not_host',
           'mute from the wrong key holder: not_host');
        is(drain($g), '', 'the guest stays connected, nothing else comes');
        is(drain($host), '', 'the host hears nothing of it');
        my $r = get_room($code);
        ok(!$r->{locked} && $r->{state} eq 'open',
           'the room is neither locked nor ended');

        # unknown ids, mute
        send_json($host, { type => 'remove', id => 'nobody00' });
        $e = expect_type($host, 'error');
        is($e && $e->{code}, 'no_such_participant',
           'remove of an unknown id: no_such_participant');
        send_json($host, { type => 'mute', id => $g_id });
        ok(expect_type($g, 'mute_request'), 'mute: the guest gets mute_request');
        is(drain($wk), '', 'the others do not');

        # screen shares: a guest may not stop one, the host may
        send_json($wk, { type => 'stop_share', id => $g_id });
        $e = expect_type($wk, 'error');
        is($e && $e->{code}, 'not_host', 'stop_share from a guest: not_host');
        send_json($host, { type => 'stop_share', id => $g_id });
        $e = expect_type($host, 'error');
        is($e && $e->{code}, 'no_such_participant',
           'stop_share of someone not sharing: no_such_participant');
        # the two shares come over two connections (maybe two nginx
        # workers): whichever reaches the media worker first is the
        # screen, and the other one is refused
        send_json($g, { type => 'share', mid => '2' });
        send_json($wk, { type => 'share', mid => '2' });
        my %refused;
        for ([g => $g], [wk => $wk]) {
            my $m = expect_type($_->[1], 'error', 2);
            $refused{$_->[0]} = $m->{code} if $m;
        }
        my ($sharer, $sharer_id, $other) = exists $refused{g}
            ? ($wk, $wkw->{id}, $g) : ($g, $g_id, $wk);
        is(join(' ', map { "$_=$refused{$_}" } sort keys %refused),
           exists $refused{g} ? 'g=share_taken' : 'wk=share_taken',
           'a second share in the room: share_taken, to one of the two');
        send_json($host, { type => 'stop_share', id => $sharer_id });
        ok(expect_type($sharer, 'share_stopped'),
           'the host stops the guest\'s share: share_stopped');
        is(drain($other), '', 'the others get nothing of it');
        is(drain($host), '', 'nor the host');

        # removal
        send_json($host, { type => 'remove', id => $g_id });
        $e = expect_type($g, 'error');
        is($e && $e->{code}, 'removed', 'the removed guest: removed');
        is(expect_close($g), 'close 4403 removed', 'then close 4403');
        my $left = expect_type($host, 'participant_left');
        is($left && $left->{id}, $g_id, 'the host hears it left');
        $left = expect_type($wk, 'participant_left');
        is($left && $left->{id}, $g_id, 'the other guest too');
        is(ban_rows($code, $token), 1,
           'the SQLite file has the ban, by the token hash');
        is(sql("SELECT count(*) FROM bans"), 1, 'one ban in all');

        my ($g2, $m, $line) = ws_join($code, name => 'Gino',
                                      guest_token => $token);
        is($m && $m->{code}, 'removed', 'its rejoin with the token: removed');
        is(expect_close($g2), 'close 4403 removed', 'and close 4403');

        my ($g3, $m3) = ws_join($code, name => 'Gino');
        is($m3->{role}, 'guest',
           'without the token it is a new guest (documented)');
        close $g3;
        expect_type($host, 'participant_left');

        # lock over the WebSocket
        send_json($host, { type => 'lock', locked => JSON::PP::true });
        my $rm = expect_type($host, 'room');
        ok($rm && $rm->{locked}, 'lock: the host hears {"type":"room"}');
        $rm = expect_type($wk, 'room');
        ok($rm && $rm->{locked}, 'and so does the guest');
        ok(get_room($code)->{locked}, 'the room is locked (GET)');

        my ($n, $nm) = ws_join($code, name => 'Nina');
        is($nm && $nm->{code}, 'locked', 'a new guest: locked');
        is(expect_close($n), 'close 4403 locked', 'close 4403');

        # the host drops out and gets back in
        close $host;
        expect_type($wk, 'participant_left');
        ($host, $w) = ws_join($code, name => 'Hanna', host_key => $key,
                              guest_token => $w->{guest_token});
        is($w->{role}, 'host', 'the host gets back into the locked room');
        ok($w->{locked}, 'its welcome says locked');

        # unlock: the ban stays
        send_json($host, { type => 'lock', locked => JSON::PP::false });
        $rm = expect_type($host, 'room');
        ok($rm && !$rm->{locked}, 'unlock: {"type":"room","locked":false}');
        ok(!get_room($code)->{locked}, 'the room is unlocked (GET)');
        ($g2, $m) = ws_join($code, name => 'Gino', guest_token => $token);
        is($m && $m->{code}, 'removed',
           'the removed token after the unlock: still removed');

        # malformed secrets
        ($g2, $m) = ws_join($code, name => 'X', guest_token => 'short');
        is($m && $m->{code}, 'bad_message', 'a malformed guest_token: '
           . 'bad_message');
        is(expect_close($g2), 'close 4400 bad_message', 'close 4400');
        ($g2, $m) = ws_join($code, name => 'X', host_key => 'short');
        is($m && $m->{code}, 'bad_message', 'a malformed host_key too');

        $S{token} = $token;
        close $host;
        close $wk;
    }

    if ($name =~ /after a restart/) {
        my ($code, $key, $token) = @S{qw(code key token)};
        is(ban_rows($code, $token), 1, 'the ban is in the file');
        my ($g, $m) = ws_join($code, name => 'Gino', guest_token => $token);
        is($m && $m->{code}, 'removed',
           'after an nginx restart, the token is still removed');
        is(expect_close($g), 'close 4403 removed', 'close 4403');

        # a fresh guest token of the right shape is not banned
        my ($ok, $okw) = ws_join($code, name => 'Otto',
                                 guest_token => 'A' x 22);
        is($okw->{type}, 'welcome', 'another token is welcome');
        is($okw->{guest_token}, 'A' x 22, 'and keeps its token');
        close $ok;
    }

    if ($name =~ /HTTP changes reach/) {
        my $room = create_room(title => 'HTTP');
        my ($code, $key) = @{$room}{qw(code host_key)};
        my ($host) = ws_join($code, name => 'Hanna', host_key => $key);
        my ($g) = ws_join($code, name => 'Gino');
        expect_type($host, 'participant_joined');

        my ($st) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                   json => { locked => JSON::PP::true },
                                   key => $key);
        is($st, 200, 'PATCH locked:true');
        for ([$host, 'the host'], [$g, 'the guest']) {
            my $rm = expect_type($_->[0], 'room');
            ok($rm && $rm->{locked} && keys(%$rm) == 2,
               "$_->[1] hears {\"type\":\"room\",\"locked\":true}");
        }

        ($st) = RoomsTest::http('PATCH', "/api/rooms/$code",
                                json => { title => 'Renamed' }, key => $key);
        is($st, 200, 'a PATCH of the title only');
        is(drain($g), '', 'is not announced');

        ($st) = RoomsTest::http('DELETE', "/api/rooms/$code", key => $key);
        is($st, 200, 'DELETE');
        for ([$host, 'the host'], [$g, 'the guest']) {
            my $e = expect_type($_->[0], 'error');
            is($e && $e->{code}, 'room_ended', "$_->[1]: room_ended");
            is(expect_close($_->[0]), 'close 4403 room_ended',
               "$_->[1]: close 4403");
        }
        my ($again, $m) = ws_join($code, name => 'Gino');
        is($m && $m->{code}, 'room_ended', 'a later join: room_ended');
    }

    if ($name =~ /end over the WebSocket/) {
        my $room = create_room(title => 'End');
        my ($code, $key) = @{$room}{qw(code host_key)};
        my ($host) = ws_join($code, name => 'Hanna', host_key => $key);
        my ($g) = ws_join($code, name => 'Gino');
        expect_type($host, 'participant_joined');

        # a rotation since the host joined does not lose its room
        my ($st, $h, $rot) = RoomsTest::http('POST',
                                             "/api/rooms/$code/invite",
                                             key => $key);
        is($st, 200, 'the link is rotated while they talk');
        send_json($host, { type => 'lock', locked => JSON::PP::true });
        my $rm = expect_type($g, 'room');
        ok($rm && $rm->{locked}, 'the host still locks its room');
        ok(get_room($rot->{code})->{locked}, 'under its new code');

        send_json($host, { type => 'end' });
        for ([$host, 'the host'], [$g, 'the guest']) {
            my $e = expect_type($_->[0], 'error');
            is($e && $e->{code}, 'room_ended', "$_->[1]: room_ended");
            is(expect_close($_->[0]), 'close 4403 room_ended',
               "$_->[1]: close 4403");
        }
        is(get_room($rot->{code})->{state}, 'ended', 'the room is ended');
    }

    if ($name =~ /race/) {
        my $room = create_room(title => 'Cap', max_participants => 4);
        my ($code, $key) = @{$room}{qw(code host_key)};

        # no join may meet a link still coming up: both must be up
        my @workers = nginx_workers();
        is(scalar @workers, 2, 'two nginx workers');
        my $deadline = time + 5;
        while (time < $deadline) {
            my $log = `cat $WorkerLog`;
            last unless grep { $log !~ /nginx worker connected: slot \d+ pid $_\b/ }
                        @workers;
            sleep 0.05;
        }
        my $log = `cat $WorkerLog`;
        is(scalar(grep { $log =~ /nginx worker connected: slot \d+ pid $_\b/ }
                       @workers), 2, 'both are linked to the media worker');

        # three upgraded WebSockets on each nginx worker (X-Worker says
        # which took it), so that the joins race across both
        my (%by, @spare);
        for (1 .. 60) {
            my ($ws, $head) = RoomsTest::ws_open("/api/rooms/$code/ws", undef,
                                                 port => $Port2);
            my ($pid) = ($head // '') =~ /^X-Worker: (\d+)/mi;
            next unless $ws && $pid;
            if (@{ $by{$pid} //= [] } < 3) {
                push @{ $by{$pid} }, $ws;
            } else {
                push @spare, $ws;
            }
            last if keys %by == 2 && !grep { @$_ < 3 } values %by;
        }
        close $_ for @spare;
        my @socks = map { @$_ } values %by;
        is(scalar @socks, 6, 'six WebSockets, three on each nginx worker');

        pipe(my $go_r, my $go_w) or die "pipe: $!";
        pipe(my $end_r, my $end_w) or die "pipe: $!";
        my @kids;
        for my $i (1 .. @socks) {
            pipe(my $r, my $w) or die "pipe: $!";
            my $pid = fork // die "fork: $!";
            if ($pid == 0) {
                RoomsLive::forget_worker();   # not this process's to stop
                close $r;
                close $go_w;
                close $end_w;
                my $ws = $socks[$i - 1];
                sysread $go_r, my $b, 1;
                RoomsTest::ws_send($ws, join_frame(name => "Guest $i"));
                my $f = next_frame($ws, 10);
                my $m = $f && ref $f->[1] ? $f->[1] : {};
                syswrite $w, ($m->{type} // 'none') . ' '
                             . ($m->{code} // $m->{role} // '-') . "\n";
                close $w;
                # hold the place until the parent is done
                sysread $end_r, $b, 1;
                POSIX::_exit(0);
            }
            close $w;
            push @kids, [$pid, $r];
        }
        close $_ for @socks;
        close $go_r;
        close $end_r;
        syswrite $go_w, 'x' x @socks;

        my @got;
        for my $k (@kids) {
            my $fh = $k->[1];
            my $line = <$fh> // "none -\n";
            chomp $line;
            push @got, $line;
        }
        note("race: @got");
        is(scalar(grep { $_ eq 'welcome guest' } @got), 3,
           'six guests race at max 4: three are welcome (max - 1)');
        is(scalar(grep { $_ eq 'error room_full' } @got), 3,
           'three get room_full');

        my ($host, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
        is($hw->{role}, 'host', 'then the host gets the place kept for it');
        is(scalar @{ $hw->{participants} }, 3, 'with the three guests');
        my ($late, $lm) = ws_join($code, name => 'Late');
        is($lm && $lm->{code}, 'room_full', 'and the room is full now');


        close $end_w;
        waitpid $_->[0], 0 for @kids;
        close $host;
    }
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $Db;
    rooms_media_socket $Sock;

    server {
        listen 127.0.0.1:$Port2 reuseport;
        location / {
            rooms;
            add_header X-Worker \$pid always;
        }
    }
_EOC_

# a test killed from outside still stops the media worker (RoomsLive)
start_worker($Sock, $WorkerLog);

master_on();
workers(2);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: hosts, guests and removal
--- request
GET /
--- error_code: 200
--- timeout: 20
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: after a restart the removed token is still refused
--- request
GET /
--- error_code: 200
--- no_error_log
[error]
[alert]



=== TEST 3: HTTP changes reach the people in the room
--- request
GET /
--- error_code: 200
--- no_error_log
[error]
[alert]



=== TEST 4: end over the WebSocket, after a rotation
--- request
GET /
--- error_code: 200
--- no_error_log
[error]
[alert]



=== TEST 5: the cap holds when six guests race on two nginx workers
--- request
GET /
--- error_code: 200
--- timeout: 20
--- no_error_log
[error]
[alert]
