# Configuration errors are caught by "nginx -t" with a clear line, and a
# valid configuration with every directive works.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;
use RoomsStore;

# a file that is not an SQLite database
open my $junk, '>', "$ENV{TEST_NGINX_ROOMS_DIR}/junk.db" or die $!;
print $junk "this is not a database\n" x 100;
close $junk;

# somebody else's database (an SQLite file, or under `make test-pg` a
# PostgreSQL database): it must be refused and left untouched
$ENV{TEST_NGINX_ROOMS_FOREIGN} = store_new('foreign');
store_query($ENV{TEST_NGINX_ROOMS_FOREIGN}, 'CREATE TABLE rooms (name TEXT)');
die "cannot make the foreign store\n" if $?;

add_response_body_check(sub {
    my ($block) = @_;
    return unless $block->name =~ /foreign database was not changed/;
    my $db = $ENV{TEST_NGINX_ROOMS_FOREIGN};
    if (store_pg()) {
        is(store_query($db, "SELECT table_schema || '.' || table_name FROM "
                          . "information_schema.tables WHERE table_schema "
                          . "NOT IN ('pg_catalog', 'information_schema') "
                          . "ORDER BY 1"),
           "public.rooms\n", 'the foreign tables are as they were');
        is(store_query($db, "SELECT count(*) FROM pg_namespace WHERE "
                          . "nspname NOT LIKE 'pg\\_%' AND nspname NOT IN "
                          . "('public', 'information_schema')"),
           "0\n", 'no schema was added to the foreign database');
        return;
    }
    is(`sqlite3 $db .schema`, "CREATE TABLE rooms (name TEXT);\n",
       'the foreign schema is as it was');
    is(`sqlite3 $db 'PRAGMA journal_mode'`, "delete\n",
       'the foreign journal mode is as it was');
});

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: "rooms" without a zone and a store
--- http_config
--- must_die
--- error_log
"rooms" in
needs "rooms_zone" and "rooms_store" in the http block



=== TEST 2: a zone without a size
--- http_config
    rooms_zone   rooms;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
--- must_die
--- error_log
invalid rooms_zone "rooms", expected "name:size", such as "rooms:10m"



=== TEST 3: a zone with a bad size
--- http_config
    rooms_zone   rooms:lots;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
--- must_die
--- error_log
invalid rooms_zone size "rooms:lots"



=== TEST 4: a zone too small to hold anything
--- http_config
    rooms_zone   rooms:4k;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
--- must_die
--- error_log
rooms_zone "rooms:4k" is too small



=== TEST 5: two zones
--- http_config
    rooms_zone   rooms:1m;
    rooms_zone   more:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
--- must_die
--- error_log
"rooms_zone" directive is duplicate



=== TEST 6: a store in a folder that does not exist
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  /nonexistent/folder/rooms.db;
--- must_die
--- error_log eval
qr{rooms_store "/nonexistent/folder/rooms.db" cannot be used: unable to open database file}



=== TEST 7: a store that is not a database
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_DIR/junk.db;
--- must_die
--- error_log eval
qr{rooms_store ".*/junk.db" cannot be used: file is not a database}



=== TEST 8: a store that is another application's database
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_FOREIGN;
--- must_die
--- error_log eval
qr{rooms_store ".*foreign.*" cannot be used: not an ngx_rooms store}



=== TEST 8b: the foreign database was not changed
--- request
GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAA
--- error_code: 404
--- response_body_like: not_found



=== TEST 9: base URLs that cannot make a link
--- config
    location / {
        rooms;
        rooms_base_url ftp://rooms.example.com;
    }
--- must_die
--- error_log
invalid rooms_base_url "ftp://rooms.example.com", expected an absolute URL such as "https://rooms.example.com"



=== TEST 9: a base URL with a query
--- config
    location / {
        rooms;
        rooms_base_url https://rooms.example.com/?x=1;
    }
--- must_die
--- error_log
invalid rooms_base_url "https://rooms.example.com/?x=1"



=== TEST 10: a base URL without a host
--- config
    location / {
        rooms;
        rooms_base_url https://;
    }
--- must_die
--- error_log
invalid rooms_base_url "https://"



=== TEST 11: a participant cap below 2
--- config
    location / {
        rooms;
        rooms_max_participants 1;
    }
--- must_die
--- error_log
invalid rooms_max_participants "1", expected a number from 2 to 1000



=== TEST 12: a participant cap over the hard limit
--- config
    location / {
        rooms;
        rooms_max_participants 1001;
    }
--- must_die
--- error_log
invalid rooms_max_participants "1001", expected a number from 2 to 1000



=== TEST 13: a participant cap that is not a number
--- config
    location / {
        rooms;
        rooms_max_participants many;
    }
--- must_die
--- error_log
invalid rooms_max_participants "many", expected a number from 2 to 1000



=== TEST 14: "rooms" in a regex location
--- config
    location ~ ^/x {
        rooms;
    }
--- must_die
--- error_log
"rooms" must be in a prefix location



=== TEST 15: "rooms" takes no argument
--- config
    location / {
        rooms on;
    }
--- must_die
--- error_log
invalid number of arguments in "rooms" directive



=== TEST 16: "rooms_zone" outside http
--- config
    location / {
        rooms;
        rooms_zone rooms:1m;
    }
--- must_die
--- error_log
"rooms_zone" directive is not allowed here



=== TEST 17: every directive set: base URL in links, a raised cap
--- config
    location / {
        rooms;
        rooms_base_url https://rooms.example.com/;
        rooms_max_participants 100;
    }
--- request eval
[qq{POST /api/rooms\n{"max_participants":100}},
 qq{POST /api/rooms\n{"max_participants":101}},
 qq{POST /api/rooms}]
--- more_headers
Content-Type: application/json
--- error_code eval
[201, 422, 201]
--- response_body_like eval
[qr{"invite_url":"https://rooms\.example\.com/r/[\w-]{22}".*"max_participants":100.*"host_url":"https://rooms\.example\.com/r/[\w-]{22}#host=[\w-]{43}"},
 qr{from 2 to 100},
 qr{"max_participants":100}]



=== TEST 18: the cap can be lowered per location
--- config
    location / {
        rooms;
        rooms_max_participants 8;
    }
--- request eval
[qq{POST /api/rooms}, qq{POST /api/rooms\n{"max_participants":9}}]
--- more_headers
Content-Type: application/json
--- error_code eval
[201, 422]
--- response_body_like eval
[qr{"max_participants":8}, qr{from 2 to 8}]



=== TEST 19: a host grace over ten minutes
--- config
    location / {
        rooms;
        rooms_host_grace 601s;
    }
--- must_die
--- error_log
invalid rooms_host_grace "601s", expected a time from 0s to 600s, such as "30s"



=== TEST 20: a host grace that is not a time
--- config
    location / {
        rooms;
        rooms_host_grace soon;
    }
--- must_die
--- error_log
invalid rooms_host_grace "soon", expected a time from 0s to 600s, such as "30s"



=== TEST 21: a negative host grace
--- config
    location / {
        rooms_host_grace -1s;
        rooms;
    }
--- must_die
--- error_log
invalid rooms_host_grace "-1s"



=== TEST 22: two host graces in one location
--- config
    location / {
        rooms;
        rooms_host_grace 5s;
        rooms_host_grace 10s;
    }
--- must_die
--- error_log
"rooms_host_grace" directive is duplicate



=== TEST 23: a host grace in every context, 0 and the maximum are valid
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_host_grace 10m;
--- config
    rooms_host_grace 0;
    location / {
        rooms;
        rooms_host_grace 600s;
    }
    location /b/ {
        rooms;
    }
--- request
POST /api/rooms
--- error_code: 201



=== TEST 24: more video slots than the offer can carry
--- config
    location / {
        rooms;
        rooms_video_slots 17;
    }
--- must_die
--- error_log
invalid rooms_video_slots "17", expected a number from 1 to 16



=== TEST 25: no video slot at all
--- config
    location / {
        rooms_video_slots 0;
        rooms;
    }
--- must_die
--- error_log
invalid rooms_video_slots "0", expected a number from 1 to 16



=== TEST 26: video slots that are not a number
--- config
    location / {
        rooms;
        rooms_video_slots many;
    }
--- must_die
--- error_log
invalid rooms_video_slots "many", expected a number from 1 to 16



=== TEST 27: two video slot counts in one location
--- config
    location / {
        rooms;
        rooms_video_slots 4;
        rooms_video_slots 9;
    }
--- must_die
--- error_log
"rooms_video_slots" directive is duplicate



=== TEST 28: more audio slots than a phone decodes
--- config
    location / {
        rooms;
        rooms_audio_slots 9;
    }
--- must_die
--- error_log
invalid rooms_audio_slots "9", expected a number from 1 to 8



=== TEST 29: no audio slot at all
--- config
    location / {
        rooms_audio_slots 0;
        rooms;
    }
--- must_die
--- error_log
invalid rooms_audio_slots "0", expected a number from 1 to 8



=== TEST 30: audio slots that are not a number
--- config
    location / {
        rooms;
        rooms_audio_slots loud;
    }
--- must_die
--- error_log
invalid rooms_audio_slots "loud", expected a number from 1 to 8



=== TEST 31: audio slots in range, inherited and overridden
--- config
    rooms_audio_slots 1;
    location / {
        rooms;
        rooms_audio_slots 8;
    }
    location /b/ {
        rooms;
    }
--- request
POST /api/rooms
--- error_code: 201
