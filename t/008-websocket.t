# WebSocket signaling at /api/rooms/<code>/ws without a media worker: the
# handshake and its refusals, the 101 takeover (frames sent together with
# the handshake are read), framing errors and their close codes, message
# checks, admission at join (ended, scheduled, locked; the host key gets
# past the lock, a wrong one does not; malformed host keys and guest
# tokens are bad_message), the join deadline,
# and media_unavailable when no media worker is configured or running.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;
use POSIX qw(strftime);

# a start one day ahead, for a scheduled room
our $Start = time + 86400;
our $StartUtc = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($Start));

our $Join = RoomsTest::ws_frame(text => '{"type":"join","name":"Ada"}');

# handshake headers but the key, for refusals (the server closes after them)
our $Hs = "Upgrade: websocket\nConnection: Upgrade, close\n"
        . "Sec-WebSocket-Version: 13";

# one connection per name: each bad name closes its WebSocket
add_response_body_check(sub {
    my ($block) = @_;
    my $names = $block->check_names;
    return unless $names;
    for my $msg (@$names) {
        utf8::encode($msg);
        my $path = RoomsTest::fill('/api/rooms/{{code}}/ws');
        my ($ws, $head) = RoomsTest::ws_open($path,
                                             RoomsTest::ws_frame(text => $msg));
        ok($ws, "$msg - upgraded") or next;
        is(RoomsTest::ws_recv($ws, 3),
           qq{text {"type":"error","code":"bad_message","message":"a name is 1 to 64 characters, without control, line-breaking or text-direction characters"}\n}
           . "close 4400 bad_message\nEOF\n", "$msg - refused");
    }
});

# one connection per join: each malformed one closes its WebSocket
add_response_body_check(sub {
    my ($block) = @_;
    my $joins = $block->check_joins;
    return unless $joins;
    for my $j (@$joins) {
        my ($msg, $why) = @$j;
        $msg = RoomsTest::fill($msg);
        my $path = RoomsTest::fill('/api/rooms/{{code}}/ws');
        my ($ws) = RoomsTest::ws_open($path, RoomsTest::ws_frame(text => $msg));
        ok($ws, "$msg - upgraded") or next;
        is(RoomsTest::ws_recv($ws, 3),
           qq{text {"type":"error","code":"bad_message","message":"$why"}\n}
           . "close 4400 bad_message\nEOF\n", "$msg - refused");
    }
});

# the key is known only once TEST 1 ran: the frame is built then
add_response_body_check(sub {
    my ($block) = @_;
    return unless $block->name =~ /host key gets past the lock/;
    my ($ws) = RoomsTest::ws_open(RoomsTest::fill('/api/rooms/{{code}}/ws'),
        RoomsTest::ws_frame(text => RoomsTest::fill(
            '{"type":"join","name":"Ada","host_key":"{{key}}"}')));
    like(RoomsTest::ws_recv($ws, 3),
         qr/^text \{"type":"error","code":"media_unavailable",[^\n]+\nclose 1013 media_unavailable\nEOF\n$/,
         'the host is not refused "locked"');
});

# a client that sends pings and reads nothing: its pongs pile up in the
# server's send queue (a small receive buffer keeps the kernel from
# absorbing them) until the bound closes it with 1008
add_response_body_check(sub {
    my ($block) = @_;
    return unless $block->name =~ /does not read/;
    require Socket;
    socket(my $s, Socket::PF_INET(), Socket::SOCK_STREAM(), 0) or die $!;
    setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096);
    connect($s, Socket::pack_sockaddr_in(server_port(),
                                         Socket::inet_aton('127.0.0.1')))
        or die "connect: $!";
    binmode $s;
    my $ping = RoomsTest::ws_frame(ping => 'x' x 125);
    syswrite $s, RoomsTest::ws_handshake(RoomsTest::fill('/api/rooms/{{code}}/ws'));
    my $out = $ping x 1000;
    for (1 .. 60) {
        my $left = length $out;
        while ($left > 0) {
            my $n = syswrite $s, $out, $left, length($out) - $left;
            last unless $n;
            $left -= $n;
        }
    }
    sleep 1;
    my $all = '';
    while (sysread $s, my $buf, 1 << 20) {
        $all .= $buf;
    }
    close $s;
    my (undef, $body) = split /\r\n\r\n/, $all, 2;
    my ($frames) = RoomsTest::ws_parse($body);
    my $last = $frames->[-1];
    ok(@$frames > 1000, scalar(@$frames) . ' pongs came back first');
    is(RoomsTest::ws_line($last), 'close 1008 too slow',
       'then the close for a client that is too slow');
});

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a room to talk about
--- request
POST /api/rooms
{"title":"Signals"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: code key=host_key



=== TEST 2: a valid handshake is answered 101 with the RFC 6455 accept value; the close frame sent with it is echoed
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(close => 'bye', code => 1000)
--- error_code: 101
--- response_headers
Upgrade: websocket
Connection: upgrade
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
!Content-Length
!Transfer-Encoding
--- ws_frames
close 1000 
--- no_error_log
[error]
[alert]



=== TEST 3: a join sent in the same write as the handshake is answered: no media worker configured
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws') . $::Join
--- error_code: 101
--- ws_frames_like
^text \{"type":"error","code":"media_unavailable","message":"[^"]+"\}\nclose 1013 media_unavailable\n$
--- no_error_log
[error]
[alert]



=== TEST 4: the media worker's socket is configured but nobody listens: media_unavailable, and a notice
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_media_socket $TEST_NGINX_ROOMS_DIR/no-such-worker.sock;
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws') . $::Join
--- error_code: 101
--- ws_frames_like
^text \{"type":"error","code":"media_unavailable",[^\n]+\}\nclose 1013 media_unavailable\n$
--- error_log
[notice]
rooms: the media worker is not running: connect() failed
no-such-worker.sock
--- no_error_log
[error]
[alert]



=== TEST 5: a GET without the upgrade headers: 400
--- request
GET /api/rooms/{{code}}/ws
--- error_code: 400
--- response_body_like: ^\{"error":\{"code":"bad_handshake","message":"this address speaks WebSocket only: send



=== TEST 6: no Sec-WebSocket-Key: 400
--- request
GET /api/rooms/{{code}}/ws
--- more_headers
Upgrade: websocket
Connection: Upgrade, close
Sec-WebSocket-Version: 13
--- error_code: 400
--- response_body_like: "code":"bad_handshake","message":"send one valid Sec-WebSocket-Key



=== TEST 7: a key that is not 16 bytes of base64, and two keys: 400
--- request eval
["GET /api/rooms/{{code}}/ws", "GET /api/rooms/{{code}}/ws"]
--- more_headers eval
["$::Hs\nSec-WebSocket-Key: c2hvcnQ=",
 "$::Hs\nSec-WebSocket-Key: $RoomsTest::WsKey\nSec-WebSocket-Key: $RoomsTest::WsKey"]
--- error_code eval
[400, 400]
--- response_body_like eval
[qr/bad_handshake/, qr/bad_handshake/]



=== TEST 8: another protocol version: 426 with the version spoken here
--- request
GET /api/rooms/{{code}}/ws
--- more_headers eval
"Upgrade: websocket\nConnection: Upgrade, close\n"
. "Sec-WebSocket-Version: 8\nSec-WebSocket-Key: $RoomsTest::WsKey"
--- error_code: 426
--- response_headers
Sec-WebSocket-Version: 13
--- response_body_like: ^\{"error":\{"code":"unsupported_websocket_version","message":"[^"]+"\}\}\n$



=== TEST 9: no version at all, no Upgrade, no Connection: upgrade, HTTP/1.0: 400
--- request eval
[("GET /api/rooms/{{code}}/ws") x 3, "GET /api/rooms/{{code}}/ws HTTP/1.0"]
--- more_headers eval
["Upgrade: websocket\nConnection: Upgrade, close\nSec-WebSocket-Key: $RoomsTest::WsKey",
 "Connection: Upgrade, close\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: $RoomsTest::WsKey",
 "Upgrade: websocket\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: $RoomsTest::WsKey",
 "$::Hs\nSec-WebSocket-Key: $RoomsTest::WsKey"]
--- error_code eval
[400, 400, 400, 400]
--- response_body_like eval
[(qr/"code":"bad_handshake"/) x 4]



=== TEST 10: a handshake with a body: 400
--- request
GET /api/rooms/{{code}}/ws
abcd
--- more_headers eval
"$::Hs\nSec-WebSocket-Key: $RoomsTest::WsKey"
--- error_code: 400
--- response_body_like: "code":"bad_handshake","message":"a WebSocket handshake has no body"



=== TEST 11: an unknown room, a malformed code: 404 before the handshake is looked at
--- request eval
["GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAA/ws", "GET /api/rooms/nope/ws",
 "GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAA/ws"]
--- more_headers eval
["$::Hs\nSec-WebSocket-Key: $RoomsTest::WsKey",
 "$::Hs\nSec-WebSocket-Key: $RoomsTest::WsKey", $::Hs]
--- error_code eval
[404, 404, 404]
--- response_body_like eval
[(qr/"code":"not_found"/) x 3]



=== TEST 12: POST, HEAD and DELETE: 405, only GET is allowed
--- request eval
["POST /api/rooms/{{code}}/ws", "HEAD /api/rooms/{{code}}/ws",
 "DELETE /api/rooms/{{code}}/ws"]
--- more_headers eval
[("$::Hs\nSec-WebSocket-Key: $RoomsTest::WsKey") x 3]
--- error_code eval
[405, 405, 405]
--- response_headers eval
[("Allow: GET") x 3]
--- response_body_like eval
[qr/"code":"method_not_allowed"/, qr/^$/, qr/"code":"method_not_allowed"/]



=== TEST 13: a ping before the join is answered with a pong of the same data
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(ping => 'are you there')
. RoomsTest::ws_frame(close => '', code => 1001)
--- error_code: 101
--- ws_frames
pong are you there
close 1001 



=== TEST 14: an unmasked client frame: close 1002
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => '{"type":"join","name":"Ada"}', mask => 0)
--- error_code: 101
--- ws_frames
close 1002 unmasked client frame



=== TEST 15: a message header claiming more than 64 KiB: close 1009 at once
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => 'x' x 16, len => 65537)
--- error_code: 101
--- ws_frames_like
^close 1009 [^\n]+\n$



=== TEST 16: invalid UTF-8 in a text frame: close 1007
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => "{\"type\":\"join\",\"name\":\"\xff\"}")
--- error_code: 101
--- ws_frames_like
^close 1007 [^\n]*\n$



=== TEST 17: text that is not JSON: bad_message, close 4400
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => 'hello')
--- error_code: 101
--- ws_frames
text {"type":"error","code":"bad_message","message":"a message is a JSON object"}
close 4400 bad_message



=== TEST 18: JSON that is not an object: bad_message, close 4400
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => '["join"]')
--- error_code: 101
--- ws_frames
text {"type":"error","code":"bad_message","message":"a message is a JSON object"}
close 4400 bad_message



=== TEST 18b: an object without a string type: bad_message, close 4400
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => '{"type":7,"name":"Ada"}')
--- error_code: 101
--- ws_frames
text {"type":"error","code":"bad_message","message":"a message needs a string \"type\""}
close 4400 bad_message



=== TEST 19: the first message must be a join
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => '{"type":"offer","sdp":"v=0"}')
--- error_code: 101
--- ws_frames
text {"type":"error","code":"bad_message","message":"the first message must be a join"}
close 4400 bad_message



=== TEST 20: a binary message: bad_message, close 4400
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(binary => "\x00\x01")
--- error_code: 101
--- ws_frames
text {"type":"error","code":"bad_message","message":"messages are JSON in text frames"}
close 4400 bad_message



=== TEST 21: names: missing, blank, 65 characters, control, line-breaking and text-direction characters, not a string
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- check_names eval
['{"type":"join"}',
 '{"type":"join","name":"   "}',
 '{"type":"join","name":"' . ("\x{e9}" x 65) . '"}',
 '{"type":"join","name":"Ada\\u0007"}',
 '{"type":"join","name":"Ada\\u007f"}',
 '{"type":"join","name":"Ada\\u0085"}',
 '{"type":"join","name":"Ada\\u202egnp.exe"}',
 '{"type":"join","name":"' . "\x{202e}" . 'Ada"}',
 '{"type":"join","name":"Ada\\u202a"}',
 '{"type":"join","name":"Ada\\u2066x\\u2069"}',
 '{"type":"join","name":"Ada\\u2028Bob"}',
 '{"type":"join","name":"Ada\\u2029"}',
 '{"type":"join","name":42}']



=== TEST 22: a name of 64 two-byte characters with blanks around passes (and meets no media worker)
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => '{"type":"join","name":"  ' . ('é' x 64) . ' "}')
--- error_code: 101
--- ws_frames_like
^text \{"type":"error","code":"media_unavailable"



=== TEST 23: a join in three fragments, with a ping between them, is reassembled
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => '{"type":"jo', fin => 0)
. RoomsTest::ws_frame(ping => 'p')
. RoomsTest::ws_frame(cont => 'in","name":', fin => 0)
. RoomsTest::ws_frame(cont => '"Ada"}')
--- error_code: 101
--- ws_frames_like
^pong p\ntext \{"type":"error","code":"media_unavailable",[^\n]+\nclose 1013 media_unavailable\n$



=== TEST 23b: the join in later writes than the handshake, split inside its header and its payload
--- raw_request eval
my $join = RoomsTest::ws_frame(text => '{"type":"join","name":"Ada"}');
[RoomsTest::ws_handshake('/api/rooms/{{code}}/ws'), substr($join, 0, 1),
 substr($join, 1, 7), substr($join, 8)]
--- raw_request_middle_delay: 0.05
--- error_code: 101
--- ws_frames_like
^text \{"type":"error","code":"media_unavailable",[^\n]+\nclose 1013 media_unavailable\n$



=== TEST 23c: a client that does not read is closed with 1008 once 256 KiB wait for it
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- timeout: 15
--- error_log
rooms: the WebSocket client is too slow



=== TEST 24: the host locks the room
--- request
PATCH /api/rooms/{{code}}
{"locked":true}
--- more_headers
Content-Type: application/json
Authorization: Bearer {{key}}
--- error_code: 200



=== TEST 25: a locked room refuses the join: locked, close 4403
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws') . $::Join
--- error_code: 101
--- ws_frames
text {"type":"error","code":"locked","message":"the host locked this room"}
close 4403 locked



=== TEST 25b: the host key gets past the lock (and meets no media worker)
--- request
GET /api/rooms/{{code}}
--- error_code: 200



=== TEST 25c: a well-formed key that is not the room's is a guest's: locked
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => '{"type":"join","name":"Ada","host_key":"'
                              . ('A' x 43) . '"}')
--- error_code: 101
--- ws_frames
text {"type":"error","code":"locked","message":"the host locked this room"}
close 4403 locked



=== TEST 25d: a host key or guest token of another shape: bad_message, close 4400
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- check_joins eval
[['{"type":"join","name":"Ada","host_key":"short"}',
  'host_key is not a host key'],
 ['{"type":"join","name":"Ada","host_key":"' . ('A' x 42) . '="}',
  'host_key is not a host key'],
 ['{"type":"join","name":"Ada","host_key":42}',
  'host_key is not a host key'],
 ['{"type":"join","name":"Ada","guest_token":"' . ('A' x 23) . '"}',
  'guest_token is not a guest token'],
 ['{"type":"join","name":"Ada","guest_token":""}',
  'guest_token is not a guest token'],
 ['{"type":"join","name":"Ada","guest_token":["' . ('A' x 22) . '"]}',
  'guest_token is not a guest token']]



=== TEST 25e: null is as good as absent; a well-formed token passes to the lock check
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => '{"type":"join","name":"Ada","host_key":null,'
                              . '"guest_token":"' . ('A' x 22) . '"}')
--- error_code: 101
--- ws_frames
text {"type":"error","code":"locked","message":"the host locked this room"}
close 4403 locked



=== TEST 25f: host actions before a join: the first message must be a join
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{code}}/ws')
. RoomsTest::ws_frame(text => '{"type":"lock","locked":false}')
--- error_code: 101
--- ws_frames
text {"type":"error","code":"bad_message","message":"the first message must be a join"}
close 4400 bad_message



=== TEST 26: the host rotates the link
--- request
POST /api/rooms/{{code}}/invite
--- more_headers
Authorization: Bearer {{key}}
--- error_code: 200
--- capture: new_code=code



=== TEST 27: the old code answers 410 before any upgrade
--- request
GET /api/rooms/{{code}}/ws
--- more_headers eval
"$::Hs\nSec-WebSocket-Key: $RoomsTest::WsKey"
--- error_code: 410
--- response_body_like: ^\{"error":\{"code":"gone",



=== TEST 27b: the new code upgrades, and the room is still locked
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{new_code}}/ws') . $::Join
--- error_code: 101
--- ws_frames
text {"type":"error","code":"locked","message":"the host locked this room"}
close 4403 locked



=== TEST 28: the host ends the room
--- request
DELETE /api/rooms/{{new_code}}
--- more_headers
Authorization: Bearer {{key}}
--- error_code: 200
--- response_body_like: "state":"ended"



=== TEST 29: an ended room still upgrades, and refuses the join: room_ended, close 4403
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{new_code}}/ws') . $::Join
--- error_code: 101
--- ws_frames
text {"type":"error","code":"room_ended","message":"the host ended this room"}
close 4403 room_ended



=== TEST 30: a room scheduled for tomorrow
--- request eval
qq{POST /api/rooms
{"title":"Later","start_at":"$::StartUtc"}}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: later=code
--- response_body_like: "state":"scheduled"



=== TEST 31: joining it early: not_started with its start_at, close 4403
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{later}}/ws') . $::Join
--- error_code: 101
--- ws_frames eval
qq{text {"type":"error","code":"not_started","message":"the room has not started","start_at":"$::StartUtc"}
close 4403 refused
}



=== TEST 32: no join within 10 s of the upgrade: close 4408
--- raw_request eval
RoomsTest::ws_handshake('/api/rooms/{{later}}/ws')
--- timeout: 15
--- error_code: 101
--- ws_frames
close 4408 join timeout
--- error_log
rooms: no join within 10000 ms of the WebSocket upgrade



=== TEST 33: a duplicate rooms_media_socket is refused by nginx -t
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_media_socket /run/rooms/media.sock;
    rooms_media_socket /run/rooms/media.sock;
--- must_die
--- error_log
"rooms_media_socket" directive is duplicate



=== TEST 34: a socket path too long for a unix address is refused by nginx -t
--- http_config eval
qq{    rooms_zone   rooms:1m;
    rooms_store  \$TEST_NGINX_ROOMS_STORE;
    rooms_media_socket /run/} . ('x' x 120) . qq{/media.sock;
}
--- must_die
--- error_log
is too long for a unix socket, at most 104 bytes are allowed
