# TURN for browsers (README "Networks"; docs/protocol.md, the welcome's
# ice_servers): rooms_turn, rooms_turn_secret and rooms_turn_ttl are
# checked at "nginx -t" (bad URLs, a URL without a secret and the
# reverse, a short secret, a lifetime out of range, too many URLs); with
# them, each welcome from the REAL media worker carries one RTCIceServer:
# the URLs, username "<expiry>:<participant id>" and the password
# base64(HMAC-SHA1(secret, username)) computed here with Digest::SHA, the
# expiry rooms_turn_ttl from now; a guest waiting in the lobby gets none
# until its welcome.  The secret is in no page, no API answer and no log
# line.  Without rooms_turn the welcome has no ice_servers.

use lib 't/lib';
use Test::Nginx::Socket;
use RoomsTest;
use RoomsLive;
use Digest::SHA qw(hmac_sha1_base64);
use Time::HiRes qw(time);

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
our $Worker = worker_path();
our $Sock = "$Dir/worker.sock";
our $WorkerLog = "$Dir/worker.log";
our $Secret = 'turn-secret-in-the-config-' . join('', map { int rand 10 } 1 .. 12);

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

plan('no_plan');

# the password coturn expects for a username (its use-auth-secret)
sub password {
    my ($user) = @_;
    my $p = hmac_sha1_base64($user, $Secret);
    $p .= '=' while length($p) % 4;
    return $p;
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    if ($name =~ /each welcome carries its own credential/) {
        my $room = create_room(title => 'Relay', admission => 'knock');
        my ($code, $key) = @{$room}{qw(code host_key)};

        my $before = int time;
        my ($host, $w) = ws_join($code, name => 'Hanna', host_key => $key);
        my $after = int(time) + 1;
        is($w && $w->{type}, 'welcome', 'the host is welcome');
        my $ice = $w && $w->{ice_servers};
        is(ref $ice, 'ARRAY', 'the welcome has ice_servers');
        is(scalar @{ $ice // [] }, 1, 'one server entry');
        my $s = ref $ice eq 'ARRAY' ? $ice->[0] : {};
        is_deeply($s->{urls}, ['turn:192.0.2.10:3478?transport=udp',
                               'turn:192.0.2.10:3478?transport=tcp',
                               'turns:turn.example.com:443?transport=tcp'],
                  'the URLs of rooms_turn, in their order');
        is(join(',', sort keys %$s), 'credential,urls,username',
           'urls, username and credential: an RTCIceServer');
        my ($exp, $id) = ($s->{username} // '') =~ /^(\d+):([A-Za-z0-9_-]+)$/;
        ok(defined $exp, 'username "<expiry>:<id>": ' . ($s->{username} // ''));
        is($id, $w->{id}, 'the id is the participant\'s');
        ok($exp >= $before + 7200 && $exp <= $after + 7200,
           "the expiry is rooms_turn_ttl (2h) from now ($exp)");
        is($s->{credential}, password($s->{username} // ''),
           'credential = base64(HMAC-SHA1(secret, username))');

        # a guest in the lobby: nothing until its welcome
        my ($g, $gw, $line) = ws_join($code, name => 'Gino');
        is($line, 'text {"type":"waiting"}', 'a waiting guest gets no TURN');
        my $k = expect_type($host, 'knock');
        send_json($host, { type => 'admit', id => $k && $k->{id} });
        my $welcome = expect_type($g, 'welcome');
        my $gs = $welcome && $welcome->{ice_servers}
                 ? $welcome->{ice_servers}[0] : {};
        like($gs->{username} // '', qr/^\d+:\Q$welcome->{id}\E$/,
             'admitted: its welcome has a credential of its own');
        isnt($gs->{username}, $s->{username}, 'not the host\'s');
        is($gs->{credential}, password($gs->{username} // ''),
           'and its password is right too');

        # the secret is in no page and no API answer
        my $seen = '';
        for my $path ('/', "/r/$code", "/r/$code?k=$key", "/api/rooms/$code",
                      '/rooms.js', '/room.js')
        {
            my ($st, $h, $body, $raw) = RoomsTest::http('GET', $path);
            $seen .= ref $body ? JSON::PP::encode_json($body) : $body // '';
        }
        unlike($seen, qr/\Q$Secret\E/, 'the secret is in no page');
        my $log = do {
            local $/;
            open my $f, "<", "$Test::Nginx::Socket::ServRoot/logs/error.log" or die $!;
            <$f>;
        };
        ok(length $log > 1000, 'the error log (debug) has lines');
        unlike($log, qr/\Q$Secret\E/, 'the secret is in no log line');
        unlike($log, qr/\Q$s->{credential}\E/, 'nor a password');
        close $g;
        close $host;
    }

    if ($name =~ /no TURN, no ice_servers/) {
        my $room = create_room(title => 'Direct');
        my ($ws, $w) = ws_join($room->{code}, name => 'Ada');
        is($w && $w->{type}, 'welcome', 'welcome');
        ok($w && !exists $w->{ice_servers}, 'no ice_servers in it');
        close $ws;
    }
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;
_EOC_

our $Turn = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;
    rooms_turn   turn:192.0.2.10:3478?transport=udp
                 turn:192.0.2.10:3478?transport=tcp;
    rooms_turn   turns:turn.example.com:443?transport=tcp;
    rooms_turn_secret $Secret;
    rooms_turn_ttl 2h;
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    if (($block->http_config // '') =~ /^\s*TURN\s*$/) {
        $block->set_value('http_config', $Turn);
    }
    return $block;
});

start_worker($Sock, $WorkerLog);

master_on();
workers(1);
log_level('debug');
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: a URL that is not turn: or turns:
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_turn   stun:192.0.2.10:3478;
    rooms_turn_secret 0123456789abcdef;
--- must_die
--- error_log
invalid rooms_turn URL "stun:192.0.2.10:3478": not a turn: or turns: URL



=== TEST 2: a bad port
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_turn   turn:192.0.2.10:70000;
    rooms_turn_secret 0123456789abcdef;
--- must_die
--- error_log
invalid rooms_turn URL "turn:192.0.2.10:70000": bad port



=== TEST 3: a bad transport
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_turn   turn:192.0.2.10?transport=sctp;
    rooms_turn_secret 0123456789abcdef;
--- must_die
--- error_log
invalid rooms_turn URL "turn:192.0.2.10?transport=sctp": expected "?transport=udp" or "?transport=tcp" after the host



=== TEST 4: turns: over udp (DTLS) is not for browsers
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_turn   turns:turn.example.com:443?transport=udp;
    rooms_turn_secret 0123456789abcdef;
--- must_die
--- error_log
turns: with transport=udp (DTLS) is not supported



=== TEST 5: URLs without a secret
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_turn   turn:192.0.2.10:3478;
--- must_die
--- error_log
"rooms_turn" needs "rooms_turn_secret" (coturn's static-auth-secret) in the http block



=== TEST 6: a secret without URLs
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_turn_secret 0123456789abcdef;
--- must_die
--- error_log
"rooms_turn_secret" without "rooms_turn": no TURN server to use it with



=== TEST 7: a short secret, not quoted in the message
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_turn   turn:192.0.2.10:3478;
    rooms_turn_secret shortsecret;
--- must_die
--- error_log
rooms_turn_secret is too short: at least 16 bytes (for example: openssl rand -hex 32)
--- no_error_log
shortsecret



=== TEST 8: a lifetime out of range
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_turn   turn:192.0.2.10:3478;
    rooms_turn_secret 0123456789abcdef;
    rooms_turn_ttl 30s;
--- must_die
--- error_log
invalid rooms_turn_ttl "30s": a time from 1m to 7d



=== TEST 9: too many URLs
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_turn   turn:a.example:1 turn:a.example:2 turn:a.example:3
                 turn:a.example:4 turn:a.example:5 turn:a.example:6
                 turn:a.example:7 turn:a.example:8 turn:a.example:9;
    rooms_turn_secret 0123456789abcdef;
--- must_die
--- error_log
too many rooms_turn URLs: at most 8



=== TEST 10: not in a server block
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
--- config
    rooms_turn   turn:192.0.2.10:3478;
    location / {
        rooms;
    }
--- must_die
--- error_log
"rooms_turn" directive is not allowed here



=== TEST 11: each welcome carries its own credential; the secret is in no page and no log
--- http_config
TURN
--- request
GET /
--- error_code: 200
--- timeout: 20
--- no_error_log
[alert]
[crit]



=== TEST 12: no TURN, no ice_servers
--- request
GET /
--- error_code: 200
--- no_error_log
[alert]
[crit]
