# The site's rules in Lua (issue 13, part 6; docs/policy.md): rooms_policy
# is compiled and run at "nginx -t" (a syntax error fails it with its
# line, and so does a failing top level or data file); identify() names
# the person, from headers, cookies and a JSON groups file read at load;
# can_create() limits room creation (403 policy_denied with its reason);
# can_join() refuses a guest (policy_denied, close 4403) or sends it to
# the lobby ("knock"), through the REAL media worker; a runtime error, an
# endless loop, a memory bomb, a wrong answer and an attempt at I/O each
# deny with a log line, and nginx answers the next request, the state
# intact.  A master and two workers: the state made at configuration is
# each worker's own copy; a worker that crashed would be an [alert]
# ("exited on signal"), which fails the block.

use lib 't/lib';
use Test::Nginx::Socket;
use RoomsTest;
use RoomsLive;
use JSON::PP;
use Time::HiRes qw(time);
use IO::Socket::INET;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
our $Sock = "$Dir/worker.sock";
our $WorkerLog = "$Dir/worker.log";

if (!-x worker_path()) {
    plan(skip_all => "no media worker at " . worker_path() . ": run make first");
}

plan('no_plan');

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;
    rooms_policy \$TEST_NGINX_HTML_DIR/policy.lua;
_EOC_

our %Room;

# the blocks whose checks drive live WebSockets
sub check {
    my ($block, $body, $req_idx) = @_;
    my $name = $block->name;

    if ($name =~ /docs\/policy\.md's sample/ && ($req_idx // 0) == 3) {
        # ada's group:staff room, just created: the sample's can_join
        my $code = $RoomsTest::Vars{code};
        my ($v, $vw, $vline) = ws_join($code, name => 'Visitor');
        is($vline, 'text {"type":"waiting"}',
           'the sample: a visitor knocks on a group room');
        my ($x, $xw) = ws_join($code, name => 'Mallory',
                               headers => "Cookie: session=s-mallory\r\n");
        is($xw && $xw->{code}, 'policy_denied', 'the sample: a blocked account is refused');
        is($xw && $xw->{message}, 'this account may not join rooms here',
           'with the sample\'s reason');
        my ($b, $bw) = ws_join($code, name => 'Bo',
                               headers => "Cookie: session=s-bo\r\n");
        is($bw && $bw->{type}, 'welcome',
           'the sample: bo, signed in, comes straight in');
        close $_ for grep { $_ } $v, $x, $b;
    }

    if ($name =~ /can_join: knock, allow and deny/) {
        my $room = create_room(title => 'Book club');
        my ($code, $key) = @{$room}{qw(code host_key)};

        # the host is never asked: its key proves it
        my ($host, $w) = ws_join($code, name => 'Hanna', host_key => $key);
        is($w && $w->{type}, 'welcome', 'the host (anonymous, with the key) is welcome');

        # a signed-in member comes straight in
        my ($m, $mw) = ws_join($code, name => 'Mara',
                               headers => "X-User: mara\r\n");
        is($mw && $mw->{type}, 'welcome', 'mara (signed in) is welcome');

        # an anonymous guest of this open room knocks, because the policy says so
        my ($g, $gw, $line) = ws_join($code, name => 'Gino');
        is($line, 'text {"type":"waiting"}', 'an anonymous guest waits in the lobby');
        my $k = expect_type($host, 'knock');
        is($k && $k->{name}, 'Gino', 'the host sees the knock');
        send_json($host, { type => 'admit', id => $k->{id} });
        my $gw2 = expect_type($g, 'welcome');
        ok($gw2 && $gw2->{guest_token}, 'admitted, it is welcome');

        # a refused person: the reason, then 4403
        my ($e, $ew, $eline) = ws_join($code, name => 'Eve',
                                       headers => "X-User: eve\r\n");
        is($ew && $ew->{code}, 'policy_denied', 'eve: policy_denied');
        is($ew && $ew->{message}, 'eve was asked to leave the club',
           'with the reason the policy gave');
        is(expect_close($e), 'close 4403 policy_denied', 'close 4403');

        my $room_now = get_room($code);
        is($room_now->{admission}, 'open', 'the room itself stays open');
        close $_ for $host, $m, $g;
    }
}

# GET /who on the running nginx: its body
sub who {
    my ($st, $h, $body) = RoomsTest::http('GET', '/who');
    return $body;
}

# HUP to the master, then wait until GET /who answers $want (the new
# workers) or 10 s pass; returns the last answer
sub reload_until {
    my ($want) = @_;
    open my $f, '<', html_dir() . '/../logs/nginx.pid' or die "pid: $!";
    chomp(my $pid = <$f>);
    kill 'HUP', $pid;
    my $deadline = time + 10;
    my $got;
    do {
        $got = who();
        return $got if $got eq $want;
        select undef, undef, undef, 0.05;
    } while (time < $deadline);
    return $got;
}

sub write_html {
    my ($name, $text) = @_;
    open my $f, '>', html_dir() . "/$name" or die "$name: $!";
    print $f $text;
    close $f;
}

sub check_reload {
    my ($block) = @_;
    return unless $block->name =~ /reload reads the data again/;

    write_html('names.json', '{"ada": "Ada Byron"}');
    is(reload_until("[ada|Ada Byron]\n"), "[ada|Ada Byron]\n",
       'after a reload the data file is read again');

    # a reload with a broken policy is refused: the running one stays
    write_html('policy.lua', "function identify(req) return 'x' end end\n");
    my $got = reload_until('never');
    is($got, "[ada|Ada Byron]\n", 'a broken policy at reload: the running one stays');
    my $log = do { local $/; open my $l, '<', html_dir() . '/../logs/error.log'; <$l> };
    like($log, qr/\[emerg\].*policy\.lua:1: '<eof>' expected near 'end'/,
         'the reload says why, with the line');
}

# One HTTP call to the running nginx, written as a --- request is
# ("METHOD /path", then a JSON body on the next lines): (status, body)
sub call {
    my ($req) = @_;
    my ($line, $json) = split /\n/, $req, 2;
    $json //= '';
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => server_port(),
                                     Proto => 'tcp', Timeout => 10)
        or return (0, "connect: $!");
    print $sock "$line HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . (length $json ? "Content-Type: application/json\r\n"
                          . "Content-Length: " . length($json) . "\r\n"
                        : '')
        . "\r\n$json";
    local $/;
    my $resp = <$sock> // '';
    close $sock;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    return ($status // 0, $body // '');
}

# "--- next_calls eval": after each request of the block, these calls, each
# [request, status, body pattern], on the same running nginx: a hook that
# failed leaves nginx serving the next calls, the policy's state intact.
# They are made here, not as more requests of the block, because both
# Test::Nginx harnesses check --- error_log against each request's own
# log lines, and these calls log nothing.
sub check_next_calls {
    my ($block, $body, $req_idx) = @_;
    my $calls = $block->next_calls;
    return unless defined $calls;
    my $name = $block->name;
    for my $c (@$calls) {
        my ($req, $want, $like) = @$c;
        my ($status, $got) = call($req);
        my ($line) = split /\n/, $req;
        is($status, $want, "$name - then $line: $want (req $req_idx)");
        like($got, $like, "$name - then $line: its body (req $req_idx)");
    }
}

add_response_body_check(\&check);
add_response_body_check(\&check_reload);
add_response_body_check(\&check_next_calls);

start_worker($Sock, $WorkerLog);

master_on();
workers(2);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: a syntax error fails nginx -t, with the file and line
--- user_files
>>> policy.lua
-- a policy with a typo on line 4
function can_create(user, room)
  return true
end end
--- must_die
--- error_log eval
qr/\[emerg\].*rooms_policy ".*policy\.lua": .*policy\.lua:4: '<eof>' expected near 'end'/



=== TEST 2: a top level that fails (a missing data file) fails nginx -t
--- user_files
>>> policy.lua
local groups = rooms.read_json("groups.json")
function identify(req) return nil end
--- must_die
--- error_log eval
qr/\[emerg\].*rooms_policy ".*policy\.lua": .*rooms\.read_json\(".*groups\.json"\): line -1: unable to open/



=== TEST 3: a hook that is not a function fails nginx -t
--- user_files
>>> policy.lua
can_join = 42
--- must_die
--- error_log eval
qr/\[emerg\].*"can_join" is a number, not a function/



=== TEST 4: an endless top level fails nginx -t instead of hanging it
--- user_files
>>> policy.lua
while true do end
--- must_die
--- timeout: 30
--- error_log eval
qr/\[emerg\].*the instruction budget is spent/



=== TEST 5: identify(): from a cookie and a header, groups from a JSON file read at load
--- user_files
>>> policy.lua
-- the data file is read once, here, at start-up and on reload
local members = rooms.read_json("groups.json")
local sessions = { ["s-ada"] = "ada", ["s-bo"] = "bo" }

function identify(req)
  local id = sessions[req.cookies.session or ""] or req.headers["x-user"]
  if id == nil then return nil end
  local m = members[id] or {}
  return id, m.name, m.groups
end
>>> groups.json
{ "ada": { "name": "Ada Lovelace", "groups": ["staff", "book-club"] },
  "bo": { "name": "Bo", "groups": ["book-club", "not a group!"] } }
--- config
    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]\n";
    }
--- request eval
["GET /who", "GET /who", "GET /who"]
--- more_headers eval
["Cookie: theme=dark; session=s-ada",
 "X-User: carla",
 "Cookie: session=wrong"]
--- response_body eval
["[ada|Ada Lovelace|staff,book-club]\n",
 "[carla||]\n",
 "[||]\n"]
--- no_error_log
[warn]
[error]



=== TEST 5a: identify(): a group from the JSON file that is not a group id is dropped, logged
--- user_files
>>> policy.lua
-- the data file is read once, here, at start-up and on reload
local members = rooms.read_json("groups.json")
local sessions = { ["s-ada"] = "ada", ["s-bo"] = "bo" }

function identify(req)
  local id = sessions[req.cookies.session or ""] or req.headers["x-user"]
  if id == nil then return nil end
  local m = members[id] or {}
  return id, m.name, m.groups
end
>>> groups.json
{ "ada": { "name": "Ada Lovelace", "groups": ["staff", "book-club"] },
  "bo": { "name": "Bo", "groups": ["book-club", "not a group!"] } }
--- config
    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]\n";
    }
--- request
GET /who
--- more_headers
Cookie: session=s-bo
--- response_body
[bo|Bo|book-club]
--- error_log
identify: 1 groups of user "bo" are not 1 to 64 of A-Z a-z 0-9 . _ - and are ignored



=== TEST 5b: odd Cookie headers are read without harm: pairs without a name or "=", several headers, at most 64 cookies
--- user_files
>>> policy.lua
function identify(req)
  local n, last = 0, nil
  for k, v in pairs(req.cookies) do n = n + 1 end
  return "n" .. n, nil, { req.cookies.a and ("a_" .. req.cookies.a:gsub("=", "_")) or "no_a",
                          req.cookies.b == "" and "b_empty" or "no_b",
                          req.cookies.c64 and "has_c64" or "no_c64",
                          req.cookies.c65 and "has_c65" or "no_c65" }
end
--- config
    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_groups]\n";
    }
--- request eval
["GET /who", "GET /who", "GET /who"]
--- more_headers eval
["Cookie: =x; ;  ; novalue; a=1=2; b=",
 "Cookie: a=1\nCookie: b=",
 "Cookie: " . CORE::join("; ", map { "c$_=v" } 1 .. 70)]
--- response_body eval
["[n2|a_1_2,b_empty,no_c64,no_c65]\n",
 "[n2|a_1,b_empty,no_c64,no_c65]\n",
 "[n64|no_a,no_b,has_c64,no_c65]\n"]



=== TEST 6: identify() decides in place of rooms_user, which it is given as request.user
--- user_files
>>> policy.lua
function identify(req)
  if req.user.id == nil then return nil end
  return "checked-" .. req.user.id, req.user.name, { "from-policy", req.user.groups[1] }
end
--- config
    rooms_user        $http_x_user;
    rooms_user_name   $http_x_name;
    rooms_user_groups $http_x_groups;
    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]\n";
    }
--- request eval
["GET /who", "GET /who"]
--- more_headers eval
["X-User: from-header\nX-Name: Hed\nX-Groups: g1 g2", ""]
--- response_body eval
["[checked-from-header|Hed|from-policy,g1]\n", "[||]\n"]



=== TEST 7: can_create(): only signed-in people create rooms, only staff public ones
--- user_files
>>> policy.lua
function identify(req) return req.headers["x-user"], nil, { req.headers["x-group"] } end

function can_create(user, room)
  if user.id == nil then
    return false, "sign in to create a room"
  end
  if room.audience == "public" and user.groups[1] ~= "staff" then
    return false, "only staff open public rooms"
  end
  return true
end
--- request eval
["POST /api/rooms\n{\"title\":\"Drinks\"}",
 "POST /api/rooms\n{\"title\":\"Drinks\"}",
 "POST /api/rooms\n{\"title\":\"Drinks\",\"audience\":\"public\"}",
 "POST /api/rooms\n{\"title\":\"Drinks\",\"audience\":\"public\"}"]
--- more_headers eval
["Content-Type: application/json",
 "Content-Type: application/json\nX-User: ada",
 "Content-Type: application/json\nX-User: ada\nX-Group: eng",
 "Content-Type: application/json\nX-User: ada\nX-Group: staff"]
--- error_code eval
[403, 201, 403, 201]
--- response_body_like eval
[qr/^\{"error":\{"code":"policy_denied","message":"sign in to create a room"\}\}\n$/,
 qr/"title":"Drinks"/,
 qr/^\{"error":\{"code":"policy_denied","message":"only staff open public rooms"\}\}\n$/,
 qr/"audience":"public"/]
--- no_error_log
[error]



=== TEST 8: a runtime error denies with a log line; the next calls are served
--- user_files
>>> policy.lua
local calls = 0
function can_create(user, room)
  calls = calls + 1
  if room.title == "boom" then
    local t = nil
    return t.field
  end
  return true, nil, calls
end
--- request
POST /api/rooms
{"title":"boom"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body_like eval
qr/^\{"error":\{"code":"policy_denied","message":"the site's rules do not allow this"\}\}\n$/
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/],
 ["GET /api/rooms/AAAAAAAAAAAAAAAAAAAAAA", 404, qr/not_found/]]
--- error_log eval
qr/\[error\].*rooms_policy: can_create\(\) failed: .*policy\.lua:6: attempt to index local 't' \(a nil value\); denied/



=== TEST 9: an endless loop is stopped by the budget and denied, each time; the next call is served
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "loop" then
    local i = 0
    while true do i = i + 1 end
  end
  if room.title == "recurse" then
    local function f(n) return f(n + 1) + 1 end
    return f(1)
  end
  if room.title == "stubborn" then
    -- catches the budget's error and loops again
    while true do pcall(function() while true do end end) end
  end
  return true
end
--- request eval
["POST /api/rooms\n{\"title\":\"loop\"}", "POST /api/rooms\n{\"title\":\"loop\"}"]
--- more_headers eval
[("Content-Type: application/json") x 2]
--- error_code eval
[403, 403]
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- timeout: 30
--- error_log eval
qr/\[error\].*rooms_policy: can_create\(\) failed: .*policy\.lua:4: the instruction budget is spent \(an endless loop\?\); denied/



=== TEST 9a: an endless recursion overflows the stack and is denied; the next call is served
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "loop" then
    local i = 0
    while true do i = i + 1 end
  end
  if room.title == "recurse" then
    local function f(n) return f(n + 1) + 1 end
    return f(1)
  end
  if room.title == "stubborn" then
    -- catches the budget's error and loops again
    while true do pcall(function() while true do end end) end
  end
  return true
end
--- request
POST /api/rooms
{"title":"recurse"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- timeout: 30
--- error_log eval
qr/\[error\].*rooms_policy: can_create\(\) failed: .*stack overflow.*; denied/



=== TEST 9b: a loop that catches the budget's error and loops again is stopped too and denied; the next call is served
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "loop" then
    local i = 0
    while true do i = i + 1 end
  end
  if room.title == "recurse" then
    local function f(n) return f(n + 1) + 1 end
    return f(1)
  end
  if room.title == "stubborn" then
    -- catches the budget's error and loops again
    while true do pcall(function() while true do end end) end
  end
  return true
end
--- request
POST /api/rooms
{"title":"stubborn"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- timeout: 30
--- error_log eval
qr/\[error\].*rooms_policy: can_create\(\) failed: .*policy\.lua:12: the instruction budget is spent \(an endless loop\?\); denied/



=== TEST 10: a memory bomb, or one huge string, hits the cap and is denied; the next call is served, the data the top level keeps intact
--- user_files
>>> policy.lua
-- data the top level keeps: more than a call may add
big = {}
for i = 1, 100000 do big[i] = "entry " .. i end

function can_create(user, room)
  if room.title == "bomb" then
    local t = {}
    for i = 1, 1e7 do t[i] = string.rep("x", 100) .. i end
  end
  if room.title == "rep" then
    return string.rep("x", 1e9) == ""
  end
  return #big == 100000
end
--- request eval
["POST /api/rooms\n{\"title\":\"bomb\"}", "POST /api/rooms\n{\"title\":\"rep\"}"]
--- more_headers eval
[("Content-Type: application/json") x 2]
--- error_code eval
[403, 403]
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- timeout: 30
--- error_log eval
qr/\[error\].*rooms_policy: can_create\(\) failed: its memory cap of 4 MiB is reached; denied/



=== TEST 11: hooks do no I/O: no io; the next call is served
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "io" then return io.open("/etc/passwd") ~= nil end
  return true
end
--- request
POST /api/rooms
{"title":"io"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- error_log eval
qr/policy\.lua:2: attempt to index global 'io' \(a nil value\); denied/



=== TEST 11a: hooks do no I/O: rooms.read_file, kept from the top level, refuses in a hook; the next call is served
--- user_files
>>> policy.lua
local kept_read = rooms.read_file
function can_create(user, room)
  if room.title == "kept" then return kept_read("/etc/passwd") ~= nil end
  return true
end
--- request
POST /api/rooms
{"title":"kept"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- error_log eval
qr/policy\.lua:3: rooms\.read_file\(\) reads data files at start-up and reload only, not in a hook; denied/



=== TEST 11b: hooks do no I/O: no os.execute, even from os kept by the top level; the next call is served
--- user_files
>>> policy.lua
local kept_os = os
function can_create(user, room)
  if room.title == "os" then return kept_os.execute("true") == 0 end
  return true
end
--- request
POST /api/rooms
{"title":"os"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- error_log eval
qr/policy\.lua:3: attempt to call field 'execute' \(a nil value\); denied/



=== TEST 11c: hooks do no I/O: no require; the next call is served
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "require" then return require("ffi") ~= nil end
  return true
end
--- request
POST /api/rooms
{"title":"require"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- error_log eval
qr/policy\.lua:2: attempt to call global 'require' \(a nil value\); denied/



=== TEST 11d: hooks do no I/O: no load*; the next call is served
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "load" then return loadstring("return true")() end
  return true
end
--- request
POST /api/rooms
{"title":"load"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- error_log eval
qr/policy\.lua:2: attempt to call global 'loadstring' \(a nil value\); denied/



=== TEST 11e: hooks do no I/O: no dofile; the next call is served
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "dofile" then return dofile("/etc/passwd") end
  return true
end
--- request
POST /api/rooms
{"title":"dofile"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- next_calls eval
[["POST /api/rooms\n{\"title\":\"fine\"}", 201, qr/"title":"fine"/]]
--- error_log eval
qr/policy\.lua:2: attempt to call global 'dofile' \(a nil value\); denied/



=== TEST 11f: what a hook may use: data read at load, os.time, string, math
--- user_files
>>> policy.lua
local motd = rooms.read_file("motd.txt")
function can_create(user, room)
  return motd == "hello\n" and os.time() > 0 and string.format("%d", math.floor(2.5)) == "2"
end
>>> motd.txt
hello
--- request
POST /api/rooms
{"title":"fine"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_like: "title":"fine"
--- no_error_log
[error]



=== TEST 12: a wrong answer is an error, logged and denied: nothing
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "nothing" then return end
  return "yes"
end
--- request
POST /api/rooms
{"title":"nothing"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- error_log
rooms_policy: can_create() failed: it returned nothing, not true, false; denied



=== TEST 12a: a wrong answer is an error, logged and denied: a string
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "nothing" then return end
  return "yes"
end
--- request
POST /api/rooms
{"title":"x"}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- error_log
rooms_policy: can_create() failed: it returned string, not true, false; denied



=== TEST 13: a reason that is not one line of text gives way to the general one; a long one is cut
--- user_files
>>> policy.lua
function can_create(user, room)
  if room.title == "ctl" then return false, "bad\nreason" end
  return false, string.rep("é", 100)
end
--- request eval
["POST /api/rooms\n{\"title\":\"ctl\"}", "POST /api/rooms\n{\"title\":\"x\"}"]
--- more_headers eval
[("Content-Type: application/json") x 2]
--- error_code eval
[403, 403]
--- response_body_like eval
[qr/"message":"the site's rules do not allow this"/,
 qr/"message":"(?:\xc3\xa9){80}"/]



=== TEST 14: can_join: knock, allow and deny (the real media worker)
--- user_files
>>> policy.lua
function identify(req) return req.headers["x-user"] end

function can_join(user, room)
  if user.id == "eve" then
    return false, "eve was asked to leave the club"
  end
  if user.id == nil and room.title == "Book club" then
    return "knock"
  end
  return true
end
--- request
GET /
--- error_code: 200
--- timeout: 30
--- no_error_log
[error]



=== TEST 15: docs/policy.md's sample, as written there: identity from an auth_request header, groups from its JSON file, creation for signed-in people
--- user_files eval
my $doc = do { local $/; open my $f, '<', 'docs/policy.md' or die "docs/policy.md: $!"; <$f> };
my ($lua) = $doc =~ /```lua\n(.*?)```/s or die "no lua block";
my ($json) = $doc =~ /```json\n(.*?)```/s or die "no json block";
">>> policy.lua\n$lua>>> groups.json\n$json"
--- config
    location / {
        auth_request      /_auth;
        auth_request_set  $site_user $upstream_http_x_auth_user;
        auth_request_set  $site_name $upstream_http_x_auth_name;
        rooms_user        $site_user;
        rooms_user_name   $site_name;

        rooms;
        add_header X-Who "[$rooms_user_id|$rooms_user_name|$rooms_user_groups]" always;
    }

    location = /_auth {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_signin;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }

    # the site's sign-in service, as the sample's port 9000 would be
    location = /_signin {
        if ($cookie_session = "s-ada") {
            add_header X-Auth-User ada;
            return 204;
        }
        if ($cookie_session = "s-mallory") {
            add_header X-Auth-User mallory;
            return 204;
        }
        if ($cookie_session = "s-bo") {
            add_header X-Auth-User bo;
            add_header X-Auth-Name "Bo Svensson";
            return 204;
        }
        return 204;
    }
--- request eval
["POST /api/rooms\n{\"title\":\"Reading\"}",
 "POST /api/rooms\n{\"title\":\"Reading\",\"audience\":\"group:book-club\"}",
 "POST /api/rooms\n{\"title\":\"Staff\",\"audience\":\"group:staff\"}",
 "POST /api/rooms\n{\"title\":\"Staff\",\"audience\":\"group:staff\"}"]
--- more_headers eval
["Content-Type: application/json\nX-Auth-User: ada",
 "Content-Type: application/json\nCookie: session=s-bo",
 "Content-Type: application/json\nCookie: session=s-bo",
 "Content-Type: application/json\nCookie: session=s-ada"]
--- error_code eval
[403, 201, 403, 201]
--- capture: code
--- response_headers eval
["X-Who: [||]", "X-Who: [bo|Bo Svensson|book-club]",
 "X-Who: [bo|Bo Svensson|book-club]", "X-Who: [ada|Ada Lovelace|staff,book-club]"]
--- response_body_like eval
[qr/"message":"sign in to create a room"/, qr/"audience":"group:book-club"/,
 qr/"message":"only members of staff open its rooms"/, qr/"audience":"group:staff"/]
--- no_error_log
[error]
[warn]



=== TEST 16: a reload reads the data again; a broken policy at reload keeps the running one
--- user_files
>>> policy.lua
local names = rooms.read_json("names.json")
function identify(req) return "ada", names.ada end
>>> names.json
{"ada": "Ada Lovelace"}
--- config
    location = /who {
        return 200 "[$rooms_user_id|$rooms_user_name]\n";
    }
--- request
GET /who
--- response_body
[ada|Ada Lovelace]
--- timeout: 30
--- error_log
[emerg]
'<eof>' expected near 'end'
