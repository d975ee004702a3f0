# Rooms survive "nginx -s reload" (HUP): the shared zone is kept, the
# store is reopened by the new workers; a reload that points the module at
# another store does not serve the old store's rooms.

BEGIN {
    $ENV{TEST_NGINX_USE_HUP} = 1;
}

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;
use RoomsStore;

# the other store of TEST 4 (a file, or a PostgreSQL database)
$ENV{TEST_NGINX_ROOMS_OTHER} = store_new('other');

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: create a room
--- request
POST /api/rooms
{"title":"Across reloads"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- capture: code key=host_key



=== TEST 2: reload with a new base URL: same room, new links
--- config
    location / {
        rooms;
        rooms_base_url https://rooms.example.org;
    }
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- response_body_like: "invite_url":"https://rooms.example.org/r/{{code}}","title":"Across reloads"



=== TEST 3: lock it
--- config
    location / {
        rooms;
        rooms_base_url https://rooms.example.org;
    }
--- request
PATCH /api/rooms/{{code}}
{"locked":true}
--- more_headers
Content-Type: application/json
Authorization: Bearer {{key}}
--- error_code: 200



=== TEST 4: reload onto another store: the room is not there
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_OTHER;
--- request
GET /api/rooms/{{code}}
--- error_code: 404



=== TEST 5: reload back: the room is there, still locked
--- request
GET /api/rooms/{{code}}
--- error_code: 200
--- response_body_like: "invite_url":"http://localhost/r/{{code}}","title":"Across reloads".*"locked":true
--- no_error_log
[alert]
[crit]
