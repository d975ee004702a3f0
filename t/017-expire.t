# rooms_expire: rooms ended, or with nobody in them, for longer than the
# limit (30 days by default) are purged from the store when nginx starts
# (and every hour).  The rooms are made through the API, then aged by
# writing their times into the store; every block restarts nginx.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;
use RoomsStore;

our $Db = $ENV{TEST_NGINX_ROOMS_STORE};
our $Day = 86400;

sub sql {
    my ($q) = @_;
    my $out = store_query($Db, $q);
    die "store query failed: $q" if $?;
    chomp $out;
    return $out;
}

sub code_of {
    my ($title) = @_;
    return sql("SELECT code FROM rooms WHERE title = '$title'");
}

# after the rooms are made: their times, as if made long ago
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $now = time;

    if ($block->name =~ /\bTEST 1:/ && $idx == 5) {
        my %age = (
            # title        created/start       ended             used
            'never-old'   => [$now - 40 * $Day, 0,                0],
            'ended-old'   => [$now - 40 * $Day, $now - 35 * $Day, 0],
            'ended-new'   => [$now - 40 * $Day, $now - 5 * $Day,  0],
            'used-old'    => [$now - 90 * $Day, 0,                $now - 31 * $Day],
            'used-recent' => [$now - 90 * $Day, 0,                $now - 2 * $Day],
        );
        for my $t (keys %age) {
            my ($c, $e, $u) = @{$age{$t}};
            sql("UPDATE rooms SET created_at = $c, start_at = $c,"
                . " ended_at = $e WHERE title = '$t'");
            # (a store without used_at then fails the checks, not here)
            eval { sql("UPDATE rooms SET used_at = $u WHERE title = '$t'") };
        }
        # what refers to the old ended room goes with it
        sql("INSERT INTO bans (room_id, token_hash, created_at)"
            . " SELECT id, " . store_blob('00' x 32) . ", $now FROM rooms"
            . " WHERE title = 'ended-old'");
        sql("INSERT INTO retired_codes (code, room_id, retired_at)"
            . " SELECT 'RetiredRetiredRetiredA', id, $now FROM rooms"
            . " WHERE title = 'ended-old'");
        $RoomsTest::Vars{ended_old_id} =
            sql("SELECT id FROM rooms WHERE title = 'ended-old'");
        $RoomsTest::Vars{$_ =~ s/-/_/r} = code_of($_)
            for keys %age, 'fresh';
    }

    if ($block->name =~ /\bTEST 2:/ && $idx == 0) {
        Test::More::is(
            sql("SELECT (SELECT count(*) FROM bans WHERE room_id ="
                . " $RoomsTest::Vars{ended_old_id}) || ','"
                . " || (SELECT count(*) FROM retired_codes WHERE room_id ="
                . " $RoomsTest::Vars{ended_old_id})"),
            '0,0', 'the purged room\'s ban and retired code are gone');
        # the fresh room is now old too, for the next block (expiry off)
        sql("UPDATE rooms SET created_at = $now - 40 * $Day,"
            . " start_at = $now - 40 * $Day WHERE title = 'fresh'");
    }
});

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: six rooms, aged in the store once made
--- request eval
[map { qq{POST /api/rooms\n{"title":"$_"}} }
     qw(never-old ended-old ended-new used-old used-recent fresh)]
--- more_headers
Content-Type: application/json
--- error_code eval
[(201) x 6]
--- response_body_like eval
[(qr/"state":"open"/) x 6]



=== TEST 2: at start, rooms unused or ended for 30 days are purged; the rest stay
--- request eval
["GET /api/rooms/{{ended_new}}",
 "GET /api/rooms/{{never_old}}", "GET /api/rooms/{{ended_old}}",
 "GET /api/rooms/{{used_old}}", "GET /api/rooms/RetiredRetiredRetiredA",
 "GET /r/{{never_old}}",
 "GET /api/rooms/{{used_recent}}", "GET /api/rooms/{{fresh}}"]
--- error_code eval
[200, 404, 404, 404, 404, 404, 200, 200]
--- response_body_like eval
[qr/"title":"ended-new".*"state":"ended"/,
 (qr/"code":"not_found"/) x 4, qr/./,
 qr/"title":"used-recent"/, qr/"title":"fresh"/]
--- no_error_log
[error]



=== TEST 3: rooms_expire off keeps every room
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_expire off;
--- request eval
["GET /api/rooms/{{fresh}}", "GET /api/rooms/{{ended_new}}"]
--- error_code eval
[200, 200]
--- no_error_log
rooms_expire:
[error]



=== TEST 4: a longer rooms_expire keeps a room 40 days old
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_expire 60d;
--- request
GET /api/rooms/{{fresh}}
--- error_code: 200
--- no_error_log
rooms_expire:
[error]



=== TEST 5: the default, 30 days, purges it
--- request
GET /api/rooms/{{fresh}}
--- error_code: 404
--- error_log
rooms_expire: 1 rooms ended or unused for 30 days or more were purged



=== TEST 6: less than a day, or not a time, fails nginx -t
--- http_config
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
    rooms_expire 12h;
--- must_die
--- error_log
rooms_expire must be "off" or a time of at least 1d, such as "30d", not "12h"



=== TEST 7: rooms_expire is refused outside http
--- config
    location / {
        rooms;
        rooms_expire 30d;
    }
--- must_die
--- error_log
"rooms_expire" directive is not allowed here
