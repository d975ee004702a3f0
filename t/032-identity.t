# Who is asking (issue 13, part 1): anonymous without configuration; with
# rooms_user (and rooms_user_name, rooms_user_groups) the admin names the
# signed-in person from nginx variables, here a header and, as README's
# example does, a header an auth_request subrequest hands back.  What the
# module made of it is in $rooms_user_id, $rooms_user_name and
# $rooms_user_groups; what it could not use is dropped and logged.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: without configuration everyone is anonymous, whatever they send
--- config
    location / {
        rooms;
        add_header X-Who "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]" always;
    }
--- request
GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAA
--- more_headers
X-User: alice
Remote-User: alice
--- error_code: 404
--- response_headers
X-Who: [||]



=== TEST 2: rooms_user from a header: id, name and groups (commas or spaces)
--- config
    rooms_user        $http_x_user;
    rooms_user_name   $http_x_user_name;
    rooms_user_groups $http_x_user_groups;

    location / {
        rooms;
        add_header X-Who "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]" always;
    }
--- request
GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAA
--- more_headers
X-User: alice@example.org
X-User-Name:  Alice Rossi 
X-User-Groups: staff, eng  ,ops.it,,
--- error_code: 404
--- response_headers
X-Who: [alice@example.org|Alice Rossi|staff,eng,ops.it]
--- no_error_log
[warn]



=== TEST 3: an empty rooms_user is anonymous, name and groups too
--- config
    rooms_user        $http_x_user;
    rooms_user_name   $http_x_user_name;
    rooms_user_groups $http_x_user_groups;

    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]\n";
    }
--- request
GET /who
--- more_headers
X-User-Name: Mallory
X-User-Groups: staff
--- response_body
[||]
--- no_error_log
[warn]



=== TEST 4: an id with a space is refused: anonymous, logged
--- config
    rooms_user        $http_x_user;
    rooms_user_name   $http_x_user_name;

    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]\n";
    }
--- request
GET /who
--- more_headers
X-User: alice smith
X-User-Name: Alice
--- response_body
[||]
--- error_log
rooms_user: a user id must be 1 to 128 bytes of printable ASCII without spaces, not 11 bytes of anything; the request is anonymous



=== TEST 4b: an id past 128 bytes is refused: anonymous, logged
--- config
    rooms_user        $http_x_user;
    rooms_user_name   $http_x_user_name;

    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]\n";
    }
--- request
GET /who
--- more_headers eval
"X-User: " . ("a" x 129) . "\nX-User-Name: Alice"
--- response_body
[||]
--- error_log
rooms_user: a user id must be 1 to 128 bytes of printable ASCII without spaces, not 129 bytes of anything; the request is anonymous



=== TEST 4c: an id of 128 bytes is kept, with its name, and nothing is logged
--- config
    rooms_user        $http_x_user;
    rooms_user_name   $http_x_user_name;

    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]\n";
    }
--- request
GET /who
--- more_headers eval
"X-User: " . ("a" x 128) . "\nX-User-Name: Alice"
--- response_body eval
"[" . ("a" x 128) . "|Alice|]\n"
--- no_error_log
[warn]



=== TEST 5: a name that is not one line of printable UTF-8, or too long, is dropped alone, logged
--- config
    rooms_user        $http_x_user;
    rooms_user_name   $http_x_user_name;

    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name]\n";
    }
--- request eval
["GET /who", "GET /who", "GET /who"]
--- more_headers eval
["X-User: bob\nX-User-Name: Bob\x{01}",
 "X-User: bob\nX-User-Name: Bob \xff\xfe",
 "X-User: bob\nX-User-Name: " . ("b" x 65)]
--- response_body eval
["[bob|]\n", "[bob|]\n", "[bob|]\n"]
--- error_log
rooms_user: the name of user "bob" is not 1 to 64 characters of one line of printable UTF-8, and is ignored



=== TEST 5b: a name of one line of printable UTF-8 is kept, and nothing is logged
--- config
    rooms_user        $http_x_user;
    rooms_user_name   $http_x_user_name;

    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name]\n";
    }
--- request
GET /who
--- more_headers eval
"X-User: bob\nX-User-Name: Bruno Bianchi \xc3\xa8"
--- response_body eval
"[bob|Bruno Bianchi \xc3\xa8]\n"
--- no_error_log
[warn]



=== TEST 6: groups that are not group ids are dropped, the others kept, logged
--- config
    rooms_user        $http_x_user;
    rooms_user_groups $http_x_user_groups;

    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_groups]\n";
    }
--- request
GET /who
--- more_headers eval
"X-User: carla\nX-User-Groups: ok,b\@d,f/oo,also_ok," . ("x" x 65)
--- response_body
[carla|ok,also_ok]
--- error_log
rooms_user: 3 groups of user "carla" are not 1 to 64 of A-Z a-z 0-9 . _ - and are ignored



=== TEST 6b: groups past the first 32 are dropped, logged
--- config
    rooms_user        $http_x_user;
    rooms_user_groups $http_x_user_groups;

    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_groups]\n";
    }
--- request
GET /who
--- more_headers eval
"X-User: carla\nX-User-Groups: " . CORE::join(",", map { "g$_" } 1 .. 40)
--- response_body eval
"[carla|" . CORE::join(",", map { "g$_" } 1 .. 32) . "]\n"
--- error_log
rooms_user_groups: 8 groups past the first 32 are ignored



=== TEST 7: rooms_user_name without rooms_user fails nginx -t
--- config
    location / {
        rooms;
        rooms_user_name $http_x_user_name;
    }
--- must_die
--- error_log
"rooms_user_name" and "rooms_user_groups" need "rooms_user" (who the person is) in the same or an enclosing block



=== TEST 8: rooms_user twice in one block fails nginx -t
--- config
    location / {
        rooms;
        rooms_user $http_x_user;
        rooms_user $remote_user;
    }
--- must_die
--- error_log
"rooms_user" directive is duplicate



=== TEST 9: README's auth_request set-up: the site's sign-in names the person
--- config
    location / {
        auth_request      /_auth;
        auth_request_set  $site_user   $upstream_http_x_auth_user;
        auth_request_set  $site_name   $upstream_http_x_auth_name;
        auth_request_set  $site_groups $upstream_http_x_auth_groups;

        rooms_user        $site_user;
        rooms_user_name   $site_name;
        rooms_user_groups $site_groups;

        rooms;
        add_header X-Who "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]" always;
    }

    location = /_auth {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_signin;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }

    # the site's sign-in service: a session cookie names the person;
    # no cookie is a visitor, who may still use the rooms anonymously
    location = /_signin {
        if ($cookie_session = "s3cret-of-dana") {
            add_header X-Auth-User   dana;
            add_header X-Auth-Name   "Dana Verdi";
            add_header X-Auth-Groups "staff,book-club";
            return 204;
        }
        return 204;
    }
--- request eval
["GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAA", "GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAA"]
--- more_headers eval
["Cookie: session=s3cret-of-dana", "X-Auth-User: mallory"]
--- error_code eval
[404, 404]
--- response_headers eval
["X-Who: [dana|Dana Verdi|staff,book-club]", "X-Who: [||]"]
