# The rate limit on room creation that README's nginx.conf and `make run`
# use: per address, on POST /api/rooms only, answered 429 in the API's
# JSON (the module turns nginx's own 429 page on an API address into it).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;

$RoomsTest::HttpConfig = <<'_EOC_';
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;

    map "$request_method $uri" $rooms_create_addr {
        "POST /api/rooms"  $binary_remote_addr;
        default            "";
    }
    limit_req_zone $rooms_create_addr zone=rooms_create:1m rate=10r/m;
_EOC_

$RoomsTest::Config = <<'_EOC_';
    location / {
        rooms;
        limit_req zone=rooms_create burst=5 nodelay;
        limit_req_status 429;
    }
_EOC_

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: six creations at once pass (one and a burst of five), then 429 in JSON
--- request eval
[(qq{POST /api/rooms\n{"title":"x"}}) x 8]
--- more_headers
Content-Type: application/json
--- error_code eval
[(201) x 6, 429, 429]
--- capture: code key=host_key
--- response_body_like eval
[(qr/"code":"[A-Za-z0-9_-]{22}"/) x 6,
 (qr/^\{"error":\{"code":"too_many_requests","message":"too many requests from this address: wait a moment and try again"\}\}\n$/) x 2]
--- no_error_log
[alert]
[crit]



=== TEST 2: nothing else is limited: reads, pages and host actions
--- request eval
[("GET /api/rooms/{{code}}") x 8, "GET /r/{{code}}", "GET /",
 qq{PATCH /api/rooms/{{code}}\n{"title":"y"}}]
--- more_headers eval
[("") x 10, "Content-Type: application/json\nAuthorization: Bearer {{key}}"]
--- error_code eval
[(200) x 11]
--- no_error_log
limiting requests
