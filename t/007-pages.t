# The pages a person opens: the create page, the room page behind an
# invite link, the embedded web client files, and the human error pages.
# Titles are escaped; pages carry a strict CSP and no Referer.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the create page lists the seed's activities
--- request
GET /
--- error_code: 200
--- response_headers
Content-Type: text/html; charset=utf-8
Referrer-Policy: no-referrer
Cache-Control: no-store
X-Content-Type-Options: nosniff
--- response_headers_like
Content-Security-Policy: ^default-src 'self';.*frame-ancestors 'none'$
--- response_body_like chomp
(?s)<title>Create a room</title>.*<label for="title">Title</label>.*<option value="drinks">Drinks</option>\n<option value="dancing">Dancing</option>\n<option value="family">Family</option>\n<option value="study_break">Study break</option>\n<option value="game_night">Game night</option>\n<option value="friends">Friends</option>\n<option value="chat" selected>Chat</option>.*<button type="submit">Create room</button>.*<script type="module" src="assets/create.js"></script>



=== TEST 2: a room whose title tries to inject markup
--- request
POST /api/rooms
{"title":"<script>alert('x')</script> & \"drinks\"","activity":"drinks"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: code key=host_key



=== TEST 3: the room page shows the title escaped, with both labels
--- request
GET /r/{{code}}
--- error_code: 200
--- response_headers
Content-Type: text/html; charset=utf-8
Referrer-Policy: no-referrer
--- response_body_like chomp
(?s)<title>&lt;script&gt;alert\(&#39;x&#39;\)&lt;/script&gt; &amp; &quot;drinks&quot;</title>.*<main id="room" data-code="{{code}}" data-state="open">.*<h1 id="title">&lt;script&gt;alert.*Drinks &middot; <span lang="it">Aperitivo</span>.*This room is open\.
--- response_body_unlike: <script>alert



=== TEST 4: HEAD of the room page: headers only
--- request
HEAD /r/{{code}}
--- error_code: 200
--- response_body:



=== TEST 5: unknown and malformed invite links are a human 404
--- request eval
["GET /r/AAAAAAAAAAAAAAAAAAAAAA", "GET /r/nope", "GET /r/", "GET /nothing"]
--- error_code eval
[404, 404, 404, 404]
--- response_body_like eval
[qr/No such room/, qr/No such room/, qr/There is nothing at this address/,
 qr/There is nothing at this address/]



=== TEST 6: the web client files are served with their types
--- request eval
["GET /assets/create.js", "GET /assets/room.js", "GET /assets/rooms.css",
 "GET /assets/missing.js", "GET /assets/../assets/room.js"]
--- error_code eval
[200, 200, 200, 404, 200]
--- response_headers eval
["Content-Type: text/javascript; charset=utf-8",
 "Content-Type: text/javascript; charset=utf-8",
 "Content-Type: text/css; charset=utf-8", "", ""]
--- response_body_like eval
[qr/fetch\('api\/rooms'/, qr/roomsState/, qr/\.card/, qr/Not found/,
 qr/roomsState/]



=== TEST 7: pages take only GET and HEAD
--- request eval
["POST /", "DELETE /r/{{code}}"]
--- error_code eval
[405, 405]



=== TEST 8: a scheduled room's page says when it opens
--- request eval
use POSIX ();
$::Opens = POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time + 86400));
qq{POST /api/rooms\n{"start_at":"$::Opens"}}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: later=code



=== TEST 9: the scheduled room's page
--- request
GET /r/{{later}}
--- error_code: 200
--- response_body_like eval
qr/data-state="scheduled".*This room opens on $::Opens\./s



=== TEST 10: the module under a prefix: links and routes follow it
--- config
    location /rooms/ {
        rooms;
    }
--- request eval
["POST /rooms/api/rooms", "GET /rooms/r/{{code}}", "GET /rooms/",
 "GET /rooms/assets/room.js", "GET /rooms/api/rooms/{{code}}"]
--- error_code eval
[201, 200, 200, 200, 200]
--- response_headers_like eval
["Location: ^/rooms/api/rooms/[\\w-]{22}\$", "", "", "", ""]
--- response_body_like eval
[qr{"invite_url":"http://localhost/rooms/r/[\w-]{22}".*"host_url":"http://localhost/rooms/r/[\w-]{22}#host=},
 qr/data-code="\{\{code\}\}"/, qr/Create a room/, qr/roomsState/,
 qr{"invite_url":"http://localhost/rooms/r/\{\{code\}\}"}]



=== TEST 11: the room page of an ended room says so
--- request eval
["DELETE /api/rooms/{{code}}", "GET /r/{{code}}"]
--- more_headers eval
["Authorization: Bearer {{key}}", ""]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"state":"ended"/, qr/data-state="ended".*This room has ended\./s]



=== TEST 12: every part of the room page is served (room.js imports them)
--- request eval
["GET /assets/words.js", "GET /assets/keys.js", "GET /assets/signal.js",
 "GET /assets/media.js", "GET /assets/stage.js", "GET /assets/panel.js",
 "GET /assets/host.js", "GET /assets/settings.js"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200]
--- response_headers eval
[("Content-Type: text/javascript; charset=utf-8") x 8]
--- response_body_like eval
[qr/export function refusal/, qr/export function guestToken/,
 qr/new WebSocket/, qr/new RTCPeerConnection/, qr/export function stage/,
 qr/export function participantPanel/, qr/Authorization/,
 qr/export function watchSettings/]
