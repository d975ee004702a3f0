# Host actions: lock, edit, rotate the invite link, end the room.  Nobody
# without the room's host key changes anything, by any path.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a host creates a room, and someone else creates another
--- request eval
[qq{POST /api/rooms\n{"title":"Game night","activity":"game_night"}},
 qq{POST /api/rooms\n{"title":"Other"}}]
--- more_headers
Content-Type: application/json
--- error_code eval
[201, 201]
--- capture: other=code other_key=host_key
--- response_body_like eval
[qr/"title":"Game night"/, qr/"title":"Other"/]



=== TEST 2: remember the first room (the capture above kept the last)
--- request
POST /api/rooms
{"title":"Game night","activity":"game_night","admission":"open"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: code key=host_key



=== TEST 3: locking without a key is refused with 401 and changes nothing
--- request eval
[qq{PATCH /api/rooms/{{code}}\n{"locked":true}}, "GET /api/rooms/{{code}}"]
--- more_headers eval
["Content-Type: application/json", ""]
--- error_code eval
[401, 200]
--- response_headers eval
['WWW-Authenticate: Bearer realm="rooms"', ""]
--- response_body_like eval
[qr/^\{"error":\{"code":"missing_host_key","message":"[^\n]+"\}\}\n$/,
 qr/"locked":false/]



=== TEST 4: another scheme, an empty bearer: 401
--- request eval
[(qq{PATCH /api/rooms/{{code}}\n{"locked":true}}) x 3,
 "GET /api/rooms/{{code}}"]
--- more_headers eval
["Content-Type: application/json\nAuthorization: Basic dXNlcjpwYXNz",
 "Content-Type: application/json\nAuthorization: Bearer",
 "Content-Type: application/json\nAuthorization: Bearer    ",
 ""]
--- error_code eval
[401, 401, 401, 200]
--- response_body_like eval
[qr/missing_host_key/, qr/missing_host_key/, qr/missing_host_key/,
 qr/"locked":false/]



=== TEST 5: a wrong key, another room's key, a guest's code: 403, nothing changes
--- request eval
[(qq{PATCH /api/rooms/{{code}}\n{"locked":true}}) x 4,
 "POST /api/rooms/{{code}}/invite", "DELETE /api/rooms/{{code}}",
 "GET /api/rooms/{{code}}"]
--- more_headers eval
["Content-Type: application/json\nAuthorization: Bearer xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
 "Content-Type: application/json\nAuthorization: Bearer {{other_key}}",
 "Content-Type: application/json\nAuthorization: Bearer {{code}}",
 "Content-Type: application/json\nAuthorization: bearer {{key}}x",
 "Authorization: Bearer {{other_key}}",
 "Authorization: Bearer {{other_key}}",
 ""]
--- error_code eval
[403, 403, 403, 403, 403, 403, 200]
--- response_body_like eval
[(qr/^\{"error":\{"code":"wrong_host_key","message":"the host key does not match this room"\}\}\n$/) x 6,
 qr/"code":"\{\{code\}\}".*"state":"open","locked":false/]



=== TEST 6: a wrong key gets 403 even with an invalid body
--- request
PATCH /api/rooms/{{code}}
not json
--- more_headers
Content-Type: application/json
Authorization: Bearer {{other_key}}
--- error_code: 403



=== TEST 7: the host locks the room (scheme is case-insensitive)
--- request eval
[qq{PATCH /api/rooms/{{code}}\n{"locked":true}}, "GET /api/rooms/{{code}}"]
--- more_headers eval
["Content-Type: application/json\nAuthorization: bEaReR {{key}}", ""]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"locked":true.*"audience":"link","host_key":"\{\{key\}\}","host_url":"http:\/\/localhost\/r\/\{\{code\}\}#host=\{\{key\}\}"/,
 qr/"locked":true/]



=== TEST 8: the host edits title, admission, audience and cap
--- request eval
[qq{PATCH /api/rooms/{{code}}\n{"title":"Serata giochi","admission":"knock","audience":"group:board-games","max_participants":20,"locked":false}},
 "GET /api/rooms/{{code}}"]
--- more_headers eval
["Content-Type: application/json\nAuthorization: Bearer {{key}}", ""]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"title":"Serata giochi".*"locked":false,"admission":"knock".*"max_participants":20.*"audience":"group:board-games"/,
 qr/"title":"Serata giochi".*"locked":false,"admission":"knock".*"max_participants":20/]



=== TEST 9: the host's bad edits: 400, 415, 422, and nothing changes
--- request eval
[qq{PATCH /api/rooms/{{code}}\n{"locked":"yes"}},
 qq{PATCH /api/rooms/{{code}}\n{"code":"AAAAAAAAAAAAAAAAAAAAAA"}},
 qq{PATCH /api/rooms/{{code}}\n{"host_key":"x"}},
 qq{PATCH /api/rooms/{{code}}\n{"max_participants":51}},
 qq~PATCH /api/rooms/{{code}}\n{"title":"x"~,
 qq{PATCH /api/rooms/{{code}}},
 qq{PATCH /api/rooms/{{code}}\n{"title":"x"}},
 "GET /api/rooms/{{code}}"]
--- more_headers eval
[("Content-Type: application/json\nAuthorization: Bearer {{key}}") x 6,
 "Content-Type: text/plain\nAuthorization: Bearer {{key}}", ""]
--- error_code eval
[422, 422, 422, 422, 400, 400, 415, 200]
--- response_body_like eval
[qr/"\\"locked\\" must be true or false"/, qr/unknown_field/,
 qr/unknown_field/, qr/from 2 to 50/, qr/invalid_json/, qr/invalid_json/,
 qr/unsupported_media_type/,
 qr/"title":"Serata giochi".*"locked":false,"admission":"knock".*"max_participants":20/]



=== TEST 9b: an unknown field cut inside a character on PATCH: 422, not 500
--- request eval
["PATCH /api/rooms/{{code}}\n{\"" . ("a" x 63) . "\xc3\xa9\":1}",
 "PATCH /api/rooms/{{code}}\n{\"" . ("a" x 62) . "\xe2\x82\xac\":1}",
 "GET /api/rooms/{{code}}"]
--- more_headers eval
[("Content-Type: application/json\nAuthorization: Bearer {{key}}") x 2, ""]
--- error_code eval
[422, 422, 200]
--- response_body_like eval
[qr/^\{"error":\{"code":"unknown_field","message":"unknown or read-only field \\"a{63}\\""\}\}\n$/,
 qr/^\{"error":\{"code":"unknown_field","message":"unknown or read-only field \\"a{62}\\""\}\}\n$/,
 qr/"title":"Serata giochi".*"locked":false,"admission":"knock".*"max_participants":20/]
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 10: an empty patch changes nothing and answers the room
--- request
PATCH /api/rooms/{{code}}
{}
--- more_headers
Content-Type: application/json
Authorization: Bearer {{key}}
--- error_code: 200
--- response_body_like: "title":"Serata giochi"



=== TEST 11: the host reads the host view with the key; a wrong key is 403
--- request eval
["GET /api/rooms/{{code}}", "GET /api/rooms/{{code}}"]
--- more_headers eval
["Authorization: Bearer {{key}}", "Authorization: Bearer {{other_key}}"]
--- error_code eval
[200, 403]
--- response_body_like eval
[qr/"audience":"group:board-games","host_key":"\{\{key\}\}"/,
 qr/wrong_host_key/]



=== TEST 12: rotating needs the key
--- request eval
["POST /api/rooms/{{code}}/invite", "POST /api/rooms/{{code}}/invite",
 "GET /api/rooms/{{code}}"]
--- more_headers eval
["", "Authorization: Bearer {{other_key}}", ""]
--- error_code eval
[401, 403, 200]



=== TEST 13: the host rotates the link: a new code, same room
--- request
POST /api/rooms/{{code}}/invite
--- more_headers
Authorization: Bearer {{key}}
--- error_code: 200
--- capture: new_code=code
--- response_body_like eval
qr/^\{"code":"(?!\{\{code\}\})[\w-]{22}","invite_url":"http:\/\/localhost\/r\/[\w-]{22}","title":"Serata giochi".*"host_key":"\{\{key\}\}"/



=== TEST 14: the old code is gone (410) everywhere; the new one works
--- request eval
["GET /api/rooms/{{code}}", qq{PATCH /api/rooms/{{code}}\n{"locked":true}},
 "POST /api/rooms/{{code}}/invite", "DELETE /api/rooms/{{code}}",
 "GET /r/{{code}}", "GET /api/rooms/{{new_code}}"]
--- more_headers eval
["", ("Content-Type: application/json\nAuthorization: Bearer {{key}}") x 3,
 "", ""]
--- error_code eval
[410, 410, 410, 410, 410, 200]
--- response_body_like eval
[(qr/^\{"error":\{"code":"gone","message":"[^"]+"\}\}\n$/) x 4,
 qr/This invite link was replaced/,
 qr/"code":"\{\{new_code\}\}".*"title":"Serata giochi"/]



=== TEST 15: ending needs the key
--- request eval
["DELETE /api/rooms/{{new_code}}", "DELETE /api/rooms/{{new_code}}",
 "GET /api/rooms/{{new_code}}"]
--- more_headers eval
["", "Authorization: Bearer {{other_key}}", ""]
--- error_code eval
[401, 403, 200]
--- response_body_like eval
[qr/missing_host_key/, qr/wrong_host_key/, qr/"state":"open".*"ended_at":null/]



=== TEST 16: the host ends the room
--- request
DELETE /api/rooms/{{new_code}}
--- more_headers
Authorization: Bearer {{key}}
--- error_code: 200
--- response_body_like: "state":"ended".*"ended_at":"[-0-9T:]{19}Z"



=== TEST 17: an ended room stays readable, refuses changes, ends once
--- request eval
["GET /api/rooms/{{new_code}}",
 qq{PATCH /api/rooms/{{new_code}}\n{"locked":false}},
 "POST /api/rooms/{{new_code}}/invite",
 "DELETE /api/rooms/{{new_code}}",
 "GET /r/{{new_code}}"]
--- more_headers eval
["", ("Content-Type: application/json\nAuthorization: Bearer {{key}}") x 3,
 ""]
--- error_code eval
[200, 409, 409, 200, 200]
--- response_body_like eval
[qr/"state":"ended"/,
 qr/^\{"error":\{"code":"room_ended","message":"[^"]+"\}\}\n$/,
 qr/room_ended/, qr/"state":"ended"/, qr/This room has ended/]



=== TEST 18: the other room was never touched
--- request
GET /api/rooms/{{other}}
--- error_code: 200
--- response_body_like: "title":"Other".*"state":"open","locked":false
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 19: a refused body never runs the action: 415 on rotate and end
--- request eval
[qq{POST /api/rooms/{{other}}/invite\nx}, qq{DELETE /api/rooms/{{other}}\nx},
 "GET /api/rooms/{{other}}"]
--- more_headers eval
[("Content-Type: text/plain\nAuthorization: Bearer {{other_key}}") x 2, ""]
--- error_code eval
[415, 415, 200]
--- response_body_like eval
[qr/unsupported_media_type/, qr/unsupported_media_type/,
 qr/"code":"\{\{other\}\}".*"state":"open".*"ended_at":null/]



=== TEST 20: a chunked body over 8 KiB on rotate is refused with 413, unrotated
--- raw_request eval
my $chunk = '{"x":"' . ("x" x 9000) . '"}';
"POST /api/rooms/{{other}}/invite HTTP/1.1\r\nHost: localhost\r\n"
. "Connection: close\r\nAuthorization: Bearer {{other_key}}\r\n"
. "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
. sprintf("%x\r\n", length $chunk) . $chunk . "\r\n0\r\n\r\n"
--- error_code: 413
--- response_body_like: "code":"body_too_large"



=== TEST 21: after both refusals the room keeps its code and is open
--- request
GET /api/rooms/{{other}}
--- error_code: 200
--- response_body_like eval
qr/"code":"\{\{other\}\}".*"state":"open".*"ended_at":null/
--- no_error_log
[alert]
[crit]
[emerg]
