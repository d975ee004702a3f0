# Creating and reading rooms over the JSON API: fields, defaults, labels,
# validation errors, sizes and media types.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;
use POSIX qw(strftime);

# a start 30 days ahead, written with an offset, and as the API returns it
our $Start = time + 30 * 86400;
our $StartLocal = strftime('%Y-%m-%dT%H:%M:%S+01:00', gmtime($Start + 3600));
our $StartUtc = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($Start));

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: create a room with every field
--- request eval
qq{POST /api/rooms
{"title":"Venerdì drinks","activity":"drinks","audience":"friends","admission":"knock","max_participants":12,"start_at":"$::StartLocal"}}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: code key=host_key
--- response_headers_like
Location: ^/api/rooms/[A-Za-z0-9_-]{22}$
Content-Type: ^application/json
Cache-Control: no-store
--- response_body_like eval
qr/^\{"code":"([A-Za-z0-9_-]{22})","invite_url":"http:\/\/localhost\/r\/\1","title":"Venerdì drinks","activity":"drinks","activity_label":\{"en":"Drinks","it":"Aperitivo"\},"state":"scheduled","locked":false,"admission":"knock","participants":0,"max_participants":12,"start_at":"$::StartUtc","created_at":"[-0-9T:]{19}Z","ended_at":null,"host_absent":"stay_open","audience":"friends","host_key":"([A-Za-z0-9_-]{43})","host_url":"http:\/\/localhost\/r\/\1#host=\2"\}\n$/



=== TEST 2: the public view never shows the host key or the audience
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- response_body_like eval
qr/^\{"code":"\{\{code\}\}","invite_url":"http:\/\/localhost\/r\/\{\{code\}\}","title":"Venerdì drinks",.*"state":"scheduled","locked":false,"admission":"knock","participants":0,"max_participants":12,"start_at":"$::StartUtc",.*"ended_at":null\}$/
--- response_body_unlike: "host_key"|"host_url"|"audience"



=== TEST 3: defaults: an empty body makes an open "chat" room for 50
--- request
POST /api/rooms
--- error_code: 201
--- response_body_like chomp
"title":"","activity":"chat","activity_label":\{"en":"Chat","it":"Chiacchierata"\},"state":"open","locked":false,"admission":"open","participants":0,"max_participants":50,.*"audience":"link"



=== TEST 4: each activity of the seed has its English and Italian label
--- request eval
[map { qq{POST /api/rooms\n{"activity":"$_"}} }
     qw(drinks dancing family study_break game_night friends chat)]
--- more_headers
Content-Type: application/json
--- error_code eval
[(201) x 7]
--- response_body_like eval
[
qr/"activity":"drinks","activity_label":\{"en":"Drinks","it":"Aperitivo"\}/,
qr/"activity":"dancing","activity_label":\{"en":"Dancing","it":"Si balla"\}/,
qr/"activity":"family","activity_label":\{"en":"Family","it":"Famiglia"\}/,
qr/"activity":"study_break","activity_label":\{"en":"Study break","it":"Pausa dallo studio"\}/,
qr/"activity":"game_night","activity_label":\{"en":"Game night","it":"Serata gioco"\}/,
qr/"activity":"friends","activity_label":\{"en":"Friends","it":"Tra amici"\}/,
qr/"activity":"chat","activity_label":\{"en":"Chat","it":"Chiacchierata"\}/,
]



=== TEST 5: every audience form is accepted
--- request eval
[map { qq{POST /api/rooms\n{"audience":"$_"}} }
     qw(link friends public group:book-club.2024)]
--- more_headers
Content-Type: application/json
--- error_code eval
[(201) x 4]
--- response_body_like eval
[qr/"audience":"link"/, qr/"audience":"friends"/, qr/"audience":"public"/,
 qr/"audience":"group:book-club.2024"/]



=== TEST 6: invalid fields are refused with 422 and say why
--- request eval
[
qq{POST /api/rooms\n{"activity":"karaoke"}},
qq{POST /api/rooms\n{"audience":"everyone"}},
qq{POST /api/rooms\n{"audience":"group:"}},
qq{POST /api/rooms\n{"audience":"group:a b"}},
qq{POST /api/rooms\n{"admission":"maybe"}},
qq{POST /api/rooms\n{"max_participants":51}},
qq{POST /api/rooms\n{"max_participants":1}},
qq{POST /api/rooms\n{"max_participants":"10"}},
qq{POST /api/rooms\n{"start_at":"tomorrow"}},
qq{POST /api/rooms\n{"start_at":"2026-02-30T10:00:00Z"}},
qq{POST /api/rooms\n{"start_at":"2999-01-01T00:00:00Z"}},
qq{POST /api/rooms\n{"title":"a\\u0007b"}},
qq~POST /api/rooms\n{"title":"~ . ("x" x 101) . qq~"}~,
qq{POST /api/rooms\n{"title":42}},
qq{POST /api/rooms\n{"lockd":true}},
]
--- more_headers
Content-Type: application/json
--- error_code eval
[(422) x 15]
--- response_body_like eval
[
qr/^\{"error":\{"code":"invalid_field","message":"\\"activity\\" must be one of drinks, dancing, family, study_break, game_night, friends, chat"\}\}\n$/,
qr/"invalid_field".*audience/,
qr/"invalid_field".*audience/,
qr/"invalid_field".*audience/,
qr/"invalid_field".*"\\"admission\\" must be \\"open\\" or \\"knock\\""/,
qr/"invalid_field".*max_participants.*from 2 to 50/,
qr/"invalid_field".*max_participants/,
qr/"invalid_field".*max_participants/,
qr/"invalid_field".*start_at.*RFC 3339/,
qr/"invalid_field".*start_at/,
qr/"invalid_field".*366 days/,
qr/"invalid_field".*must not contain control/,
qr/"invalid_field".*longer than 100 characters/,
qr/"invalid_field".*"\\"title\\" must be a string"/,
qr/"unknown_field".*lockd/,
]



=== TEST 7: bodies that are not a JSON object are refused with 400
--- request eval
[
qq~POST /api/rooms\n{"title":~,
qq{POST /api/rooms\n[1,2]},
qq{POST /api/rooms\n{"title":"a","title":"b"}},
qq{POST /api/rooms\n{"title":"\xff\xfe"}},
qq{POST /api/rooms\n{"title":"a\\u0000b"}},
]
--- more_headers
Content-Type: application/json
--- error_code eval
[(400) x 5]
--- response_body_like eval
[(qr/^\{"error":\{"code":"invalid_json","message":"(?:[^"\\]|\\.)+"\}\}\n$/) x 5]



=== TEST 8: a body must be sent as application/json
--- request eval
[qq{POST /api/rooms\n{"title":"x"}}, qq{POST /api/rooms\n{"title":"x"}}]
--- more_headers eval
["Content-Type: text/plain", ""]
--- error_code eval
[415, 415]
--- response_body_like eval
[(qr/"code":"unsupported_media_type"/) x 2]



=== TEST 9: application/json with parameters is fine
--- request
POST /api/rooms
{"title":"x"}
--- more_headers
Content-Type: Application/JSON; charset=utf-8
--- error_code: 201



=== TEST 10: a declared body over 8 KiB is refused with 413, unread
--- request eval
"POST /api/rooms\n" . '{"title":"' . ("x" x 9000) . '"}'
--- more_headers
Content-Type: application/json
--- error_code: 413
--- response_body_like: "code":"body_too_large"



=== TEST 11: a chunked body over 8 KiB is refused with 413 too
--- raw_request eval
my $chunk = '{"title":"' . ("x" x 9000) . '"}';
"POST /api/rooms HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
. sprintf("%x\r\n", length $chunk) . $chunk . "\r\n0\r\n\r\n"
--- error_code: 413
--- response_body_like: "code":"body_too_large"



=== TEST 12: unknown and malformed codes are 404 without touching other rooms
--- request eval
[
"GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAA",
"GET /api/rooms/short",
"GET /api/rooms/AAAAAAAAAAAAAAAAAAAA%2B%2F",
"GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAAA",
"GET /api/rooms/{{code}}/nothing",
"GET /api/nothing",
"GET /api",
]
--- error_code eval
[(404) x 7]
--- response_body_like eval
[(qr/^\{"error":\{"code":"not_found","message":"[^"]+"\}\}\n$/) x 7]



=== TEST 13: wrong methods get 405 with Allow
--- request eval
["GET /api/rooms", "PUT /api/rooms/{{code}}", "GET /api/rooms/{{code}}/invite",
 "DELETE /api/rooms"]
--- error_code eval
[405, 405, 405, 405]
--- response_headers eval
["Allow: POST", "Allow: GET, HEAD, PATCH, DELETE", "Allow: POST", "Allow: POST"]
--- response_body_like eval
[(qr/"code":"method_not_allowed"/) x 4]



=== TEST 14: the room is still intact after all of that
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- response_body_like: "title":"Venerdì drinks".*"max_participants":12
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 15: an unknown field cut at its 64th byte inside a character is still a 422
The message names at most 64 bytes of the field, cut before a character
that does not fit whole: "é" (2 bytes) at bytes 64-65, "€" (3 bytes) at
63-65, an emoji (4 bytes) at 62-65.  The answer is valid JSON in UTF-8.
--- request eval
[
"POST /api/rooms\n{\"" . ("a" x 63) . "\xc3\xa9\":1}",
"POST /api/rooms\n{\"" . ("a" x 62) . "\xe2\x82\xac\":1}",
"POST /api/rooms\n{\"" . ("a" x 61) . "\xf0\x9f\x98\x80\":1}",
"POST /api/rooms\n{\"" . ("a" x 60) . "\xf0\x9f\x98\x80b\":1}",
]
--- more_headers
Content-Type: application/json
--- error_code eval
[(422) x 4]
--- response_body_like eval
[
qr/^\{"error":\{"code":"unknown_field","message":"unknown field \\"a{63}\\""\}\}\n$/,
qr/^\{"error":\{"code":"unknown_field","message":"unknown field \\"a{62}\\""\}\}\n$/,
qr/^\{"error":\{"code":"unknown_field","message":"unknown field \\"a{61}\\""\}\}\n$/,
qr/^\{"error":\{"code":"unknown_field","message":"unknown field \\"a{60}\xf0\x9f\x98\x80\\""\}\}\n$/,
]
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 16: a declared body over client_max_body_size is the API's JSON 413
nginx refuses it before the module runs (the harness's server has 30M)
--- config
    location / {
        rooms;
        client_max_body_size 1m;
    }
--- request eval
"POST /api/rooms\n" . ('x' x (1024 * 1024 + 10))
--- more_headers
Content-Type: application/json
--- error_code: 413
--- response_headers_like
Content-Type: ^application/json$
Cache-Control: no-store
--- response_body_like: ^\{"error":\{"code":"body_too_large","message":"the body is larger than 8192 bytes"\}\}\n$



=== TEST 17: a chunked body over client_max_body_size is the API's JSON 413 too
--- config
    location / {
        rooms;
        client_max_body_size 1m;
    }
--- raw_request eval
my $chunk = 'x' x (1024 * 1024 + 10);
"PATCH /api/rooms/{{code}} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. "Authorization: Bearer {{key}}\r\n"
. "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
. sprintf("%x\r\n", length $chunk) . $chunk . "\r\n0\r\n\r\n"
--- error_code: 413
--- response_headers_like
Content-Type: ^application/json$
--- response_body_like: ^\{"error":\{"code":"body_too_large","message":"the body is larger than 8192 bytes"\}\}\n$



=== TEST 18: a page's 413 stays nginx's own (HTML), and an admin's error_page wins
--- config
    location / {
        rooms;
        client_max_body_size 1m;
    }
    location /rooms/ {
        rooms;
        client_max_body_size 1m;
        error_page 413 @big;
    }
    location @big {
        default_type text/plain;
        return 200 "big\n";
    }
--- request eval
["GET /r/{{code}}\n" . ('x' x (1024 * 1024 + 10)),
 "POST /rooms/api/rooms\n" . ('x' x (1024 * 1024 + 10))]
--- error_code eval
[413, 413]
--- response_body_like eval
[qr/<html>/, qr/^big$/]
--- no_error_log
[alert]
[crit]
[emerg]
