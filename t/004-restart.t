# Rooms are durable: every block restarts nginx (a fresh shared zone), so
# what a later block reads comes from the SQLite file.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: create the room to keep
--- request
POST /api/rooms
{"title":"Kept","activity":"family","admission":"knock","max_participants":7}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: kept=code kept_key=host_key



=== TEST 2: create the room to rotate
--- request
POST /api/rooms
{"title":"Rotated","activity":"dancing"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: rot=code rot_key=host_key



=== TEST 3: after a restart the room is there, exactly
--- request
GET /api/rooms/{{kept}}
--- error_code: 200
--- response_body_like: ^\{"code":"{{kept}}","invite_url":"http://localhost/r/{{kept}}","title":"Kept","activity":"family","activity_label":\{"en":"Family","it":"Famiglia"\},"state":"open","locked":false,"admission":"knock","participants":0,"max_participants":7,



=== TEST 4: lock one, rotate the other
--- request eval
[qq{PATCH /api/rooms/{{kept}}\n{"locked":true}},
 "POST /api/rooms/{{rot}}/invite"]
--- more_headers eval
["Content-Type: application/json\nAuthorization: Bearer {{kept_key}}",
 "Authorization: Bearer {{rot_key}}"]
--- error_code eval
[200, 200]
--- capture: rot_new=code



=== TEST 5: after another restart: still locked, old code gone, new code live
--- request eval
["GET /api/rooms/{{kept}}", "GET /api/rooms/{{rot}}",
 "GET /api/rooms/{{rot_new}}", "GET /r/{{rot}}"]
--- error_code eval
[200, 410, 200, 410]
--- response_body_like eval
[qr/"title":"Kept".*"locked":true/, qr/"code":"gone"/,
 qr/"code":"\{\{rot_new\}\}".*"title":"Rotated"/, qr/replaced/]



=== TEST 6: end a room
--- request
DELETE /api/rooms/{{rot_new}}
--- more_headers
Authorization: Bearer {{rot_key}}
--- error_code: 200



=== TEST 7: after a restart the ended room is still ended, the host key still works
--- request eval
["GET /api/rooms/{{rot_new}}", qq{PATCH /api/rooms/{{rot_new}}\n{"title":"x"}},
 "GET /api/rooms/{{kept}}"]
--- more_headers eval
["", "Content-Type: application/json\nAuthorization: Bearer {{rot_key}}",
 "Authorization: Bearer {{kept_key}}"]
--- error_code eval
[200, 409, 200]
--- response_body_like eval
[qr/"state":"ended"/, qr/room_ended/, qr/"locked":true.*"host_key":"\{\{kept_key\}\}"/]
