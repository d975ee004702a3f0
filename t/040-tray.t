# The tray (issue 13 parts 2, 3 and 4; docs/api.md "The tray"), end to end
# through two nginx workers and the REAL media worker:
#
# - "your people": browsers that were in a call together are each
#   other's people (GET api/people by the X-Rooms-Guest header), and a
#   person can be forgotten (DELETE api/people/<id>), both ways;
# - the visibility matrix: every audience (link, friends, group:<id>,
#   public) x state (open with people, empty, scheduled within the hour,
#   locked, ended) x viewer (no token, a browser that met nobody, one of
#   the host's people, one of the host's people banned from the room):
#   exactly the rooms the rule allows are listed, and no field of any
#   other room (its code, its title) appears anywhere in the answer;
#   only the names of one's own people in a room are shown;
# - drop-in obeys the knock (waiting), the cap (not listed when full,
#   room_full), the lock and the ban, as the link does;
# - the live tray (api/tray/ws): the list at once after hello, again when
#   someone joins or leaves (through either nginx worker), never a room
#   the browser may not see; a bad first message closes it 4400.
#
# Signed-in people (rooms_user from an X-User header, rooms_user_groups
# from X-Groups, as an auth_request would set them): "same group" is Gina,
# in group g1; and two signed-in people who meet are each other's people
# whatever browser they use next.

use lib 't/lib';
use Test::Nginx::Socket;
use RoomsTest;
use RoomsLive;
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
our $Worker = worker_path();
our $Sock = "$Dir/worker.sock";
our $WorkerLog = "$Dir/worker.log";
our $Port2 = $ENV{TEST_NGINX_ROOMS_PORT2} ||= server_port() + 9;
$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

plan('no_plan');

# the headers of a viewer: a guest token, or a hash of headers
sub guest {
    my ($t) = @_;
    return () unless $t;
    return (headers => $t) if ref $t;
    return (headers => { 'X-Rooms-Guest' => $t });
}

# POST api/rooms as the browser with guest token $t
sub create_as {
    my ($t, %fields) = @_;
    my ($st, $h, $room) = RoomsTest::http('POST', '/api/rooms',
                                          json => \%fields, guest($t));
    die "create: $st" unless $st == 201;
    return $room;
}

# GET api/tray as $t (undef: no token): (raw body, {code => item})
sub tray {
    my ($t, $port) = @_;
    my ($st, $h, $body) = RoomsTest::http('GET', '/api/tray', guest($t),
                                          $port ? (port => $port) : ());
    my $raw = ref $body ? encode_json($body) : ($body // '');
    my %by = map { $_->{code} => $_ } @{ ref $body ? $body->{rooms} : [] };
    return ($raw, \%by, $st);
}

sub people {
    my ($t) = @_;
    my ($st, $h, $body) = RoomsTest::http('GET', '/api/people', guest($t));
    return ref $body ? $body->{people} : [];
}

# joins $code as $name (with $token, or a host key); the welcome's token
sub join_as {
    my ($code, $name, %opt) = @_;
    my ($ws, $w) = ws_join($code, name => $name, %opt);
    return ($ws, $w);
}

# waits until the room's live count is $n
sub wait_count {
    my ($code, $n) = @_;
    my $deadline = time + 5;
    for (;;) {
        my $room = get_room($code);
        return 1 if ($room->{participants} // -1) == $n;
        return 0 if time > $deadline;
        sleep 0.05;
    }
}

# the next tray message on a live tray, up to $timeout s; undef if none
sub next_tray {
    my ($ws, $timeout) = @_;
    my $m = expect_type($ws, 'tray', $timeout // 3);
    return $m;
}

sub tray_has {
    my ($m, $code) = @_;
    return scalar grep { $_->{code} eq $code } @{ $m ? $m->{rooms} : [] };
}

sub tray_ws {
    my ($t, $port) = @_;
    my ($ws) = RoomsTest::ws_open('/api/tray/ws',
        RoomsTest::ws_frame(text => encode_json({ type => 'hello',
                                                  $t ? (guest_token => $t)
                                                     : () })),
        $port ? (port => $port) : ());
    return $ws;
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    return check_worker_gone() if $name =~ /media worker goes away/;
    return unless $name =~ /the tray/;

    # ---- Anna, Bruno and Dora meet; Carl meets nobody ----
    my $meet = create_room(title => 'Meeting');
    my ($a, $aw) = join_as($meet->{code}, 'Anna',
                           host_key => $meet->{host_key});
    my $tA = $aw->{guest_token};
    my ($b, $bw) = join_as($meet->{code}, 'Bruno');
    my $tB = $bw->{guest_token};
    my ($d, $dw) = join_as($meet->{code}, 'Dora');
    my $tD = $dw->{guest_token};
    like("$tA $tB $tD", qr/^\S{22} \S{22} \S{22}$/, 'three guest tokens');
    close $_ for ($a, $b, $d);

    my $alone = create_room(title => 'Alone');
    my ($c, $cw) = join_as($alone->{code}, 'Carl');
    my $tC = $cw->{guest_token};
    close $c;

    is(join(',', sort map { $_->{name} } @{ people($tB) }), 'Anna,Dora',
       "Bruno's people: Anna and Dora");
    is(join(',', sort map { $_->{name} } @{ people($tA) }), 'Bruno,Dora',
       "Anna's people: Bruno and Dora");
    is(scalar @{ people($tC) }, 0, 'Carl has no people');
    is(scalar @{ people(undef) }, 0, 'a browser without a token: nobody');
    unlike(encode_json(people($tB)), qr/\Q$tA\E/,
           'no token in the list of people');

    # ---- the matrix: Anna's rooms ----
    my $soon = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time + 1800));
    my (%room, @held);
    for my $aud (qw(link friends group:g1 public)) {
        for my $state (qw(open empty soon locked ended)) {
            my $r = create_as($tA, title => "T $aud $state", audience => $aud,
                              $state eq 'soon' ? (start_at => $soon) : ());
            $room{"$aud $state"} = $r;
            next if $state eq 'empty' || $state eq 'soon';

            my ($h) = join_as($r->{code}, 'Anna', host_key => $r->{host_key},
                              guest_token => $tA);
            push @held, $h;

            if ($state eq 'open') {
                # Dora drops in and is removed: banned from this room
                my ($g, $gw) = join_as($r->{code}, 'Dora',
                                       guest_token => $tD);
                my $pj = expect_type($h, 'participant_joined');
                send_json($h, { type => 'remove', id => $pj->{id} });
                expect_close($g);
                wait_count($r->{code}, 1);

            } elsif ($state eq 'locked') {
                RoomsTest::http('PATCH', "/api/rooms/$r->{code}",
                                json => { locked => JSON::PP::true },
                                key => $r->{host_key});

            } elsif ($state eq 'ended') {
                RoomsTest::http('DELETE', "/api/rooms/$r->{code}",
                                key => $r->{host_key});
            }
        }
    }

    my %sees = (
        'public open'   => 'none,carl,bruno,gina',
        'friends open'  => 'bruno',
        'group:g1 open' => 'gina',
        'public soon'   => 'none,carl,bruno,dora,gina',
        'friends soon'  => 'bruno,dora',
        'group:g1 soon' => 'gina',
    );
    my %viewer = (none => undef, carl => $tC, bruno => $tB, dora => $tD,
                  gina => { 'X-User' => 'gina', 'X-Groups' => 'g0,g1' });

    for my $v (sort keys %viewer) {
        my ($raw, $by, $st) = tray($viewer{$v}, $Port2);
        is($st, 200, "GET api/tray as $v: 200");
        for my $key (sort keys %room) {
            my $r = $room{$key};
            my $want = ($sees{$key} // '') =~ /\b$v\b/;
            if ($want) {
                ok($by->{ $r->{code} }, "$v sees $key");
            } else {
                ok(!$by->{ $r->{code} }
                   && index($raw, $r->{code}) < 0
                   && index($raw, "T $key") < 0,
                   "$v: nothing of $key (code, title)");
            }
        }
    }

    # what an item says
    my (undef, $by) = tray($tB);
    my $it = $by->{ $room{'friends open'}{code} } // {};
    is($it->{title}, 'T friends open', 'an item: its title');
    is($it->{state}, 'open', 'open');
    is($it->{participants}, 1, 'its live count (Dora was removed)');
    is(join(',', @{ $it->{people} // [] }), 'Anna',
       "the names of Bruno's people in it: Anna");
    is($it->{activity_label}{it}, 'Chiacchierata', 'its activity, in Italian');
    $it = $by->{ $room{'friends soon'}{code} } // {};
    is($it->{state}, 'scheduled', 'a scheduled room: scheduled');
    is($it->{start_at}, $soon, 'with its start');
    (undef, $by) = tray($tC);
    is(join(',', @{ ($by->{ $room{'public open'}{code} } // {})->{people}
                    // ['?'] }), '',
       'Carl sees the public room without a name in it (Anna is not his)');

    # another group's member sees no group room
    my ($raw_h, $by_h) = tray({ 'X-User' => 'hugo', 'X-Groups' => 'g2' });
    ok(!grep({ index($raw_h, $room{"group:g1 $_"}{code}) >= 0 }
             qw(open empty soon locked ended)),
       'hugo, in group g2: nothing of the g1 rooms');

    # ---- signed-in people: the relation follows the user ----
    my $sroom = create_room(title => 'Signed in');
    my @s;
    for my $who (qw(ivo jo)) {
        my ($ws) = RoomsTest::ws_open("/api/rooms/$sroom->{code}/ws",
                                      join_frame(name => ucfirst $who),
                                      headers => "X-User: $who\r\n");
        ok(expect_type($ws, 'welcome'), "$who, signed in, joins");
        push @s, $ws;
    }
    close $_ for @s;
    is(join(',', map { $_->{name} } @{ people({ 'X-User' => 'ivo' }) }),
       'Jo', "ivo's people, from any browser: Jo");
    is(scalar @{ people({ 'X-User' => 'ivo', 'X-Rooms-Guest' => $tC }) }, 1,
       "with Carl's browser token too: still the user's");

    # ---- the site's friends (rooms_policy people()) count too ----
    my ($st0, $h0, $kroom) = RoomsTest::http('POST', '/api/rooms',
        json => { title => 'Kim friends', audience => 'friends' },
        headers => { 'X-User' => 'kim' });
    my ($kws) = RoomsTest::ws_open("/api/rooms/$kroom->{code}/ws",
        join_frame(name => 'Kim', host_key => $kroom->{host_key}),
        headers => "X-User: kim\r\n");
    ok(expect_type($kws, 'welcome'), 'kim, signed in, opens a friends room');
    my ($kraw, $kby) = tray({ 'X-User' => 'ivo' });
    ok($kby->{ $kroom->{code} },
       "ivo, kim's friend by the policy's people(), sees it (they never met)");
    ($kraw) = tray({ 'X-User' => 'jo' });
    ok(index($kraw, $kroom->{code}) < 0, 'jo, who is not, sees nothing');
    close $kws;

    # ---- drop-in obeys the lock, the ban, the knock and the cap ----
    my ($n, $nm) = join_as($room{'public locked'}{code}, 'Carl',
                           guest_token => $tC);
    is($nm && $nm->{code}, 'locked', 'drop into a locked room: locked');
    ($n, $nm) = join_as($room{'public open'}{code}, 'Dora',
                        guest_token => $tD);
    is($nm && $nm->{code}, 'removed', 'a banned browser: removed');

    my $knock = create_as($tA, title => 'Knock', audience => 'friends',
                          admission => 'knock');
    my ($kh) = join_as($knock->{code}, 'Anna', host_key => $knock->{host_key},
                       guest_token => $tA);
    push @held, $kh;
    (undef, $by) = tray($tB);
    is(($by->{ $knock->{code} } // {})->{admission}, 'knock',
       'a knock room is listed, marked knock');
    my ($kb, $kbw) = join_as($knock->{code}, 'Bruno', guest_token => $tB);
    is($kbw && $kbw->{type}, 'waiting', 'dropping in knocks: waiting');
    close $kb;

    my $full = create_as($tA, title => 'Full', audience => 'public',
                         max_participants => 2);
    my ($fh) = join_as($full->{code}, 'Anna', host_key => $full->{host_key},
                       guest_token => $tA);
    (undef, $by) = tray($tC);
    ok($by->{ $full->{code} }, 'a public room with room in it: listed');
    my ($fb) = join_as($full->{code}, 'Bruno', guest_token => $tB);
    wait_count($full->{code}, 2);
    my ($raw) = tray($tC);
    ok(index($raw, $full->{code}) < 0, 'full: not listed');
    my ($fc, $fcw) = join_as($full->{code}, 'Carl', guest_token => $tC);
    is($fcw && $fcw->{code}, 'room_full', 'dropping in anyway: room_full');
    close $_ for ($fb, $fh);

    # ---- the live tray ----
    # several of Bruno's trays through the reuseport listener: both nginx
    # workers serve some, and a join through either must reach each
    my @bt = map { tray_ws($tB, $Port2) } 1 .. 4;
    my $ct = tray_ws($tC, $Port2);
    ok(!grep({ !$_ } @bt, $ct), 'five live trays open');
    for my $ws (@bt) {
        ok(tray_has(next_tray($ws), $room{'friends open'}{code}),
           "Bruno's live tray at once: Anna's friends room");
    }
    my $first_c = next_tray($ct);
    ok($first_c && !tray_has($first_c, $room{'friends open'}{code}),
       "Carl's: not it");

    my $live = create_as($tA, title => 'Live', audience => 'friends');
    my $t0 = time;
    my ($lh) = join_as($live->{code}, 'Anna', host_key => $live->{host_key},
                       guest_token => $tA);
    my $seen = 0;
    for my $ws (@bt) {
        my $deadline = time + 3;
        while (time < $deadline) {
            my $m = next_tray($ws, $deadline - time) or last;
            if (tray_has($m, $live->{code})) { $seen++; last }
        }
    }
    is($seen, 4, 'Anna joins: every live tray of Bruno lists the room');
    diag(sprintf 'the live trays had it %.2f s after the join began',
         time - $t0);
    my @got = split /\n/, RoomsLive::drain($ct, 1.0);
    ok(!grep({ index($_, $live->{code}) >= 0 || /Live/ } @got),
       "Carl's live tray never shows it");

    close $lh;
    my $gone = 0;
    for my $ws (@bt) {
        my $deadline = time + 3;
        while (time < $deadline) {
            my $m = next_tray($ws, $deadline - time) or last;
            if (!tray_has($m, $live->{code})) { $gone++; last }
        }
    }
    is($gone, 4, 'Anna leaves: it goes from every live tray');
    close $_ for @bt, $ct;

    # ---- forgetting ----
    my ($anna) = grep { $_->{name} eq 'Anna' } @{ people($tB) };
    like($anna && $anna->{id} // '', qr/^[0-9a-f]{32}$/, 'a person has an id');
    my ($st, $h, $body) = RoomsTest::http('DELETE', "/api/people/$anna->{id}",
                                          guest($tB));
    is($st, 200, 'DELETE api/people/<id>: 200');
    is($body->{forgotten}, 1, 'one forgotten');
    is(join(',', map { $_->{name} } @{ people($tB) }), 'Dora',
       'Bruno forgot Anna');
    ok(!grep({ $_->{name} eq 'Bruno' } @{ people($tA) }),
       'and Anna Bruno: both ways');
    ($raw, $by) = tray($tB);
    ok(!$by->{ $room{'friends open'}{code} } && index($raw, 'T friends') < 0,
       "Anna's friends rooms left Bruno's tray");
    ($st) = RoomsTest::http('DELETE', "/api/people/$anna->{id}", guest($tB));
    is($st, 404, 'forgetting again: 404');
    ($st, $h, $body) = RoomsTest::http('DELETE', '/api/people', guest($tD));
    is($body->{forgotten}, 2, 'Dora forgets everyone: 2');

    # ---- bad input ----
    ($st) = RoomsTest::http('POST', '/api/tray');
    is($st, 405, 'POST api/tray: 405');
    ($raw, $by, $st) = tray('not a token');
    is($st, 200, 'a malformed X-Rooms-Guest: as no token');
    my ($bad) = RoomsTest::ws_open('/api/tray/ws',
        RoomsTest::ws_frame(text => '{"type":"join"}'));
    is(expect_close($bad), 'close 4400 expected hello',
       'a tray whose first message is not hello: 4400');

    close $_ for @held;
}

# the media worker goes away: nobody is in a room any more
sub check_worker_gone {
    my $pub = create_room(title => 'Public', audience => 'public');
    my ($ph) = join_as($pub->{code}, 'Anna', host_key => $pub->{host_key});
    my (undef, $by) = tray(undef);
    ok($by->{ $pub->{code} }, 'a public room with Anna in it: listed');
    stop_worker();
    expect_close($ph);
    my $deadline = time + 5;
    my $listed = 1;
    while ($listed && time < $deadline) {
        my ($r1) = tray(undef);
        my ($r2) = tray(undef, $Port2);
        $listed = index($r1 . $r2, $pub->{code}) >= 0;
        sleep 0.1 if $listed;
    }
    ok(!$listed, 'the media worker stops: the room leaves every tray');
    start_worker($Sock, $WorkerLog);
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_policy      \$TEST_NGINX_HTML_DIR/policy.lua;
    rooms_user        \$http_x_user;
    rooms_user_groups \$http_x_groups;
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;

    server {
        listen 127.0.0.1:$Port2 reuseport;
        location / {
            rooms;
        }
    }
_EOC_

start_worker($Sock, $WorkerLog);

master_on();
workers(2);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: the tray: people, the visibility matrix, drop-in, live
--- request
GET /
--- error_code: 200
--- timeout: 60
--- user_files
>>> policy.lua
-- the site's own friends: ivo's is kim
function people(user)
  if user.id == "ivo" then return { "kim" } end
  return {}
end
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: the media worker goes away: its rooms leave the trays
--- request
GET /
--- error_code: 200
--- timeout: 30
--- user_files
>>> policy.lua
-- no hook: every rule is the module's own
--- no_error_log
[alert]
[crit]
