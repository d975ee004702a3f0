# Scheduled rooms (README "Scheduled rooms", docs/api.md) through a whole
# nginx (master, two workers: t/lib/RoomsServer.pm) and its real store:
#
# - "nginx -t" refuses a bad rooms_reminder (0, more than 7 days, not a
#   time) and passes a good one;
# - a store of schema version 5 (the released tables, with a room in it)
#   is migrated in place when nginx starts: the room is kept;
# - a start time in the past, too far ahead or malformed gets a clear 422;
#   one a minute ago is "now";
# - "Remind me": a browser (its rooms_browser cookie, made on the first
#   POST) asks, asking twice counts once, forgetting counts down, the host
#   (and only the host) sees how many asked; an open, an ended or an
#   unknown room is refused;
# - r/<code>/event.ics parses with Python's icalendar (Debian's
#   python3-icalendar): one VEVENT, its UID, DTSTAMP, DTSTART in UTC (the
#   room's start), SUMMARY (a long title with ; , \ and non-ASCII text,
#   folded at 75 octets and unfolded back whole), URL and DESCRIPTION
#   with the invite link, a VALARM rooms_reminder before; an ended room's
#   is CANCELLED; the raw text has CRLF lines of at most 75 octets;
# - a browser's calendar feed (api/calendar) lists the scheduled rooms it
#   asked to be reminded of and those it created, nothing else (not
#   another browser's, not a room that was never scheduled); and its
#   people's scheduled friends and public rooms (not their link-only
#   ones), and not to someone who is not their person; a rotated
#   invite link shows in it, an ended room leaves it; a new feed address
#   makes the old one 404, and a revoked one 404s;
# - live notices (api/notices, server-sent events): the streams of the
#   browser that asked get "event: reminder" for the room once it is
#   rooms_reminder or less from its start, in both nginx workers; a
#   browser that did not ask gets none; a browser without a token gets
#   204; the tray's WebSocket (api/tray/ws, so that `/` keeps one
#   connection) gets {"type":"reminder"} once per socket when its
#   handshake carries the cookie, and none without it, for another
#   browser, or from a page of another site (its Origin); a reload closes the old workers' streams (no alert about an
#   open socket left) and new ones open;
# - a signed-in person (rooms_user): reminders and the feed follow their
#   id on any browser, without a browser token.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Open2 qw(open2);
use Digest::SHA qw(sha256_hex);
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);

use RoomsTest;
use RoomsServer;
use RoomsStore;

# Debian's python3 (a python3 earlier on PATH may lack the package)
if (system('/usr/bin/python3', '-c', 'import icalendar') != 0) {
    plan(skip_all => 'no python3-icalendar: make deps');
}

my $dir = tempdir('rooms-sched-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $port = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $Lead = 30;                     # rooms_reminder in this suite's nginx

sub http { RoomsTest::http(@_, port => $port) }

# JSON with its keys in order, to compare whole answers
my $J = JSON::PP->new->canonical;
sub js { $J->encode($_[0]) }

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

# the rooms_browser cookie a response set ("rooms_browser=...")
sub cookie_of {
    my ($h) = @_;
    my ($c) = ($h->{'set-cookie'} // '') =~ /^(rooms_browser=[A-Za-z0-9_-]+)/;
    return $c;
}

# Parses a calendar with icalendar: its events as
# [{uid, dtstamp, dtstart (unix), summary, url, description, status,
#   alarms: [{action, trigger (s)}]}]
my $Parser = <<'PY';
import json, sys
from icalendar import Calendar
cal = Calendar.from_ical(sys.stdin.buffer.read())
out = []
for ev in cal.walk('VEVENT'):
    start = ev.decoded('DTSTART')
    e = {
        'uid': str(ev.get('UID')),
        'dtstamp': ev.decoded('DTSTAMP').timestamp(),
        'dtstart': start.timestamp(),
        'utc': start.utcoffset() is not None
               and start.utcoffset().total_seconds() == 0,
        'summary': str(ev.get('SUMMARY')),
        'url': str(ev.get('URL')),
        'description': str(ev.get('DESCRIPTION')),
        'status': str(ev.get('STATUS', '')),
        'alarms': [{'action': str(a.get('ACTION')),
                    'trigger': a.decoded('TRIGGER').total_seconds()}
                   for a in ev.walk('VALARM')],
    }
    out.append(e)
print(json.dumps({'name': str(cal.get('X-WR-CALNAME', '')),
                  'events': out}))
PY

sub parse_ics {
    my ($text) = @_;
    my $pid = open2(my $out, my $in, '/usr/bin/python3', '-c', $Parser);
    binmode $in;
    print $in $text;
    close $in;
    local $/;
    my $json = <$out>;
    waitpid $pid, 0;
    return $? == 0 ? decode_json($json) : undef;
}

# GET of a calendar: (status, content type, raw text)
sub get_ics {
    my ($path) = @_;
    my ($st, $h, $body) = http('GET', $path);
    return ($st, $h->{'content-type'} // '', ref $body ? '' : $body);
}

# ---- nginx -t ----

for my $bad ('0', '8d', 'soon') {
    nginx_conf($dir, $port, http => "rooms_reminder $bad;");
    my ($rc, $out) = nginx_test($dir);
    ok($rc != 0 && $out =~ /invalid rooms_reminder "\Q$bad\E"/,
       "nginx -t refuses rooms_reminder $bad") or diag($out);
}

nginx_conf($dir, $port, http => "rooms_reminder ${Lead}s;");
my $db = store_of($dir);
store_reset($db);                   # the refusals above are no fault
unlink "$dir/error.log";

# ---- a version 5 store, migrated in place ----
# (SQLite only: PostgreSQL stores begin at a later version, made whole)

my $v5 = <<'SQL';
CREATE TABLE rooms (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE,
  host_hash BLOB NOT NULL, title TEXT NOT NULL, activity INTEGER NOT NULL,
  audience TEXT NOT NULL, admission INTEGER NOT NULL, locked INTEGER NOT NULL,
  max_participants INTEGER NOT NULL, start_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL, ended_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE retired_codes (code TEXT PRIMARY KEY,
  room_id INTEGER NOT NULL REFERENCES rooms(id), retired_at INTEGER NOT NULL);
CREATE TABLE bans (room_id INTEGER NOT NULL REFERENCES rooms(id),
  token_hash BLOB NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY (room_id, token_hash)) WITHOUT ROWID;
ALTER TABLE rooms ADD COLUMN host_absent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
CREATE TABLE cohosts (id INTEGER PRIMARY KEY,
  room_id INTEGER NOT NULL REFERENCES rooms(id), key_hash BLOB NOT NULL UNIQUE,
  token_hash BLOB NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0);
CREATE INDEX cohosts_room ON cohosts (room_id, revoked_at);
ALTER TABLE rooms ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;
CREATE TABLE webhook_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL, body BLOB NOT NULL);
PRAGMA user_version = 5;
SQL
my $now = int(time);
my $old_code = 'OldRoomOfVersionFive00';
$v5 .= sprintf("INSERT INTO rooms (code, host_hash, title, activity, audience,"
    . " admission, locked, max_participants, start_at, created_at)"
    . " VALUES ('%s', zeroblob(32), 'Kept', 6, 'link', 0, 0, 50, %d, %d);",
    $old_code, $now + 3600, $now - 60);
if (!store_pg()) {
    open my $sq, '|-', "sqlite3 $db" or die "sqlite3: $!";
    print $sq $v5;
    close $sq;
    is($?, 0, 'a version 5 store is made');
}

my ($rc, $out) = nginx_test($dir);
is($rc, 0, 'nginx -t passes rooms_reminder 30s, migrating the store')
    or diag($out);
my $master = nginx_start($dir, $port);
ok($master, 'nginx runs') or BAIL_OUT(`tail -5 $dir/error.log`);

# the module's version (a later step may follow this suite's)
my ($Version) = do {
    local (@ARGV, $/) = ('common/rooms_store.h');
    <> =~ /#define ROOMS_STORE_SCHEMA_VERSION\s+(\d+)/;
};
ok($Version >= 6, "the module's schema version has the schedule's step");
my ($st, $h, $room);
if (!store_pg()) {
    is(`sqlite3 $db 'PRAGMA user_version'` + 0, $Version,
       "the store is at schema version $Version");
    is(store_query($db, "SELECT count(*) FROM sqlite_master WHERE name IN "
                        . "('reminders', 'calendar_feeds')") + 0,
       2, 'with the reminders and calendar_feeds tables');
    ($st, $h, $room) = http('GET', "/api/rooms/$old_code");
    is("$st $room->{title} $room->{state}", '200 Kept scheduled',
       'the room of version 5 is kept, still scheduled');
} else {
    is(store_query($db, "SELECT count(*) FROM information_schema.tables "
                        . "WHERE table_name IN ('reminders', "
                        . "'calendar_feeds')") + 0,
       2, 'the store has the reminders and calendar_feeds tables');
}

# ---- start times ----

for my $case (["an hour ago", iso(time - 3600), qr/in the past/],
              ["400 days ahead", iso(time + 400 * 86400), qr/366 days/],
              ["malformed", '2026-13-45T99:00:00Z', qr/RFC 3339/],
              ["not a string", 12, qr/RFC 3339/]) {
    my ($name, $v, $re) = @$case;
    ($st, $h, my $e) = http('POST', '/api/rooms', json => { start_at => $v });
    ok($st == 422 && $e->{error}{code} eq 'invalid_field'
       && $e->{error}{message} =~ $re, "a start time $name: 422, clearly")
        or diag(explain($e));
}
($st, $h, $room) = http('POST', '/api/rooms',
                        json => { start_at => iso(time - 60) });
is("$st $room->{state}", '201 open', 'a start a minute ago is now: open');
my $open = $room;

# ---- Remind me ----

my $title = 'Venerdì; drinks, \\ with a long title that folds past the '
          . 'seventy-five octets of a line: àèìòù';
my $start = int(time) + 3600;
($st, $h, my $sched) = http('POST', '/api/rooms',
                            json => { title => $title,
                                      start_at => iso($start) });
is($st, 201, 'a room scheduled in an hour');
my $host_cookie = cookie_of($h);
like($host_cookie // '', qr/^rooms_browser=[A-Za-z0-9_-]{22}$/,
     'its creator gets a browser token');
like($h->{'set-cookie'}, qr/HttpOnly/, 'kept from scripts (HttpOnly)');
my $code = $sched->{code};
my $rem = "/api/rooms/$code/reminders";

($st, $h, my $r) = http('POST', $rem);
my $anna = cookie_of($h);
is("$st " . js($r), '200 {"reminded":true}',
   'Anna asks to be reminded: her first POST gives her a browser token');
ok($anna && $anna ne $host_cookie, 'a token of her own');
($st, $h, $r) = http('POST', $rem, cookie => $anna);
ok($st == 200 && !cookie_of($h), 'asking again: 200, the same token');
($st, $h, $r) = http('POST', $rem);
my $bruno = cookie_of($h);
is($st, 200, 'Bruno asks too');
($st, $h, $r) = http('POST', $rem);
my $carla = cookie_of($h);
is($st, 200, 'and Carla');

($st, $h, $r) = http('GET', $rem, key => $sched->{host_key});
is(js($r), '{"count":3,"reminded":false}',
   'the host sees that 3 asked (asking twice counts once)');
($st, $h, $r) = http('DELETE', $rem, cookie => $carla);
is("$st " . js($r), '200 {"reminded":false}', 'Carla forgets it');
($st, $h, $r) = http('GET', $rem, key => $sched->{host_key});
is($r->{count}, 2, 'the host sees 2');
($st, $h, $r) = http('GET', $rem, cookie => $anna);
is(js($r), '{"reminded":true}',
   'Anna sees she asked, and no count: only the host sees it');
($st, $h, $r) = http('GET', $rem, key => 'x' x 43);
is(js($r), '{"reminded":false}', 'a wrong host key sees no count');

($st, $h, $r) = http('POST', "/api/rooms/$open->{code}/reminders");
is("$st $r->{error}{code}", '409 not_scheduled', 'an open room: refused');
($st, $h, $r) = http('POST', '/api/rooms/AAAAAAAAAAAAAAAAAAAAAA/reminders');
is($st, 404, 'an unknown room: 404');
($st, $h, $r) = http('PUT', $rem);
is($st, 405, 'PUT: 405');

# ---- event.ics ----

my ($ics_st, $type, $text) = get_ics("/r/$code/event.ics");
is($ics_st, 200, 'event.ics is served');
like($type, qr{^text/calendar}, 'as text/calendar');
my @lines = split /\r\n/, $text, -1;
ok($text =~ /\r\n\z/ && $text !~ /(?<!\r)\n/, 'every line ends in CRLF');
ok(!grep({ length($_) > 75 } @lines), 'no line is longer than 75 octets');
ok(grep({ /^ / } @lines), 'the long title is folded');
my $cal = parse_ics($text);
ok($cal && @{$cal->{events}} == 1, 'icalendar parses one VEVENT')
    or diag($text);
my $ev = $cal->{events}[0] // {};
is($ev->{dtstart}, $start, 'DTSTART is the room\'s start');
ok($ev->{utc}, 'in UTC');
ok(abs($ev->{dtstamp} - time) < 60, 'DTSTAMP is now');
is($ev->{summary}, $title, 'SUMMARY is the title, escaped and unfolded whole');
is($ev->{url}, "http://localhost/r/$code", 'URL is the invite link');
like($ev->{description}, qr{http://localhost/r/\Q$code\E},
     'DESCRIPTION has the invite link');
is_deeply($ev->{alarms}, [{ action => 'DISPLAY', trigger => -$Lead }],
          'a VALARM rooms_reminder (30s) before the start');
like($ev->{uid}, qr/^[0-9a-f]{32}\@ngx_rooms$/, 'a UID');
is($ev->{status}, '', 'not cancelled');
my $uid = $ev->{uid};

($ics_st) = get_ics('/r/AAAAAAAAAAAAAAAAAAAAAA/event.ics');
is($ics_st, 404, 'an unknown room\'s event.ics: 404');

# ---- calendar feeds ----

# another browser's scheduled room, and a room its creator never scheduled
($st, $h, my $other) = http('POST', '/api/rooms',
                            json => { title => 'Not yours',
                                      start_at => iso(time + 7200) });
my $other_host = cookie_of($h);
($st, $h, my $now_room) = http('POST', '/api/rooms', json => { title => 'Now' });

($st, $h, $r) = http('POST', '/api/calendar', cookie => $anna);
is($st, 201, 'Anna gets a calendar feed');
my ($anna_feed) = ($r->{url} // '') =~ m{^http://localhost(/calendar/[A-Za-z0-9_-]{43}\.ics)$};
ok($anna_feed, 'at a secret address') or diag(explain($r));
($st, $h, $r) = http('POST', '/api/calendar', cookie => $host_cookie);
my ($host_feed) = ($r->{url} // '') =~ m{^http://localhost(/calendar/\S+)$};
ok($host_feed && $host_feed ne $anna_feed, 'the host gets another');

sub feed_titles {
    my ($path) = @_;
    my ($s, $t, $x) = get_ics($path);
    return "HTTP $s" unless $s == 200;
    my $c = parse_ics($x) or return 'unparsable';
    return join ' | ', map { $_->{summary} } @{$c->{events}};
}

sub feed_event {
    my ($path) = @_;
    my ($s, $t, $x) = get_ics($path);
    my $c = parse_ics($x) // { events => [] };
    return $c->{events}[0] // {};
}

is(feed_titles($anna_feed), $title,
   'Anna\'s feed lists the room she asked about, nothing else');
is(feed_titles($host_feed), $title,
   'the host\'s lists the room it created (not its unscheduled ones)');
my $fe = feed_event($anna_feed);
ok($fe->{uid} eq $uid && $fe->{dtstart} == $start
   && $fe->{alarms}[0]{trigger} == -$Lead,
   'the feed\'s event is the event.ics one (UID, start, alarm)');

($st, $h, $r) = http('POST', "/api/rooms/$code/invite",
                     key => $sched->{host_key});
is($st, 200, 'the host rotates the link');
my $new_code = $r->{code};
$fe = feed_event($anna_feed);
is($fe->{url}, "http://localhost/r/$new_code", 'the feed has the new link');
is($fe->{uid}, $uid, 'with the same UID');
($ics_st) = get_ics("/r/$code/event.ics");
is($ics_st, 410, 'the old link\'s event.ics: 410');

($st, $h, $r) = http('POST', '/api/calendar', cookie => $anna);
my ($anna_feed2) = ($r->{url} // '') =~ m{^http://localhost(/calendar/\S+)$};
ok($anna_feed2 && $anna_feed2 ne $anna_feed, 'Anna rotates her feed');
is(feed_titles($anna_feed), 'HTTP 404', 'the old address: 404');
is(feed_titles($anna_feed2), $title, 'the new one lists her room');

($st) = http('DELETE', "/api/rooms/$new_code", key => $sched->{host_key});
is($st, 200, 'the host ends the room');
is(feed_titles($anna_feed2), '', 'an ended room leaves the feed');
is(feed_titles($host_feed), '', 'and the host\'s');
($ics_st, $type, $text) = get_ics("/r/$new_code/event.ics");
is(parse_ics($text)->{events}[0]{status}, 'CANCELLED',
   'its event.ics says CANCELLED');
($st, $h, $r) = http('POST', "/api/rooms/$new_code/reminders");
is("$st $r->{error}{code}", '409 room_ended', 'an ended room: refused');

($st) = http('DELETE', '/api/calendar', cookie => $anna);
is($st, 204, 'Anna revokes her feed');
is(feed_titles($anna_feed2), 'HTTP 404', 'it is gone');
($ics_st) = get_ics('/calendar/' . ('A' x 43) . '.ics');
is($ics_st, 404, 'a feed address never made: 404');

# ---- a feed lists its people's scheduled rooms they may see ----

# Anna and Bruno met in a call (the people relation, written here as the
# signaling writes it: tests/e2e/tray.t makes it in real calls)
my ($tok_anna, $tok_bruno, $tok_dino) = ('AnnaGuestToken00000000', 'BrunoGuestToken0000000',
                                         'DinoGuestToken00000000');
my $sql = "INSERT INTO people (self_hash, other_hash, name, last_at) VALUES"
        . " (" . store_blob(sha256_hex($tok_bruno)) . ", "
        . store_blob(sha256_hex($tok_anna)) . ", 'Anna', " . int(time) . ")";
store_query($db, $sql);
die "the store: people" if $?;
my %made;
for my $a (['friends', 'Anna friends', 7200], ['public', 'Anna public', 7300],
           ['link', 'Anna link only', 7400], ['friends', 'Anna now', 0]) {
    my ($aud, $t, $ahead) = @$a;
    my ($s, undef, $room) = http('POST', '/api/rooms',
        headers => { 'X-Rooms-Guest' => $tok_anna },
        json => { title => $t, audience => $aud,
                  $ahead ? (start_at => iso(time + $ahead)) : () });
    $made{$t} = $room;
    is($s, 201, "Anna creates \"$t\" ($aud)");
}
($st, $h, $r) = http('POST', '/api/calendar',
                     headers => { 'X-Rooms-Guest' => $tok_bruno });
my ($bruno_feed) = ($r->{url} // '') =~ m{^http://localhost(/calendar/\S+)$};
is(feed_titles($bruno_feed), 'Anna friends | Anna public',
   'Bruno\'s feed: his person Anna\'s scheduled friends and public rooms, '
   . 'not her link-only one nor one that is not scheduled');
($st, $h, $r) = http('POST', '/api/calendar',
                     headers => { 'X-Rooms-Guest' => $tok_dino });
my ($dino_feed) = ($r->{url} // '') =~ m{^http://localhost(/calendar/\S+)$};
is(feed_titles($dino_feed), '', 'Dino, who never met her, gets none of them');
($st) = http('DELETE', "/api/rooms/$made{'Anna public'}{code}",
             key => $made{'Anna public'}{host_key});
is(feed_titles($bruno_feed), 'Anna friends', 'an ended one leaves it');

# ---- live notices ----

# an open notice stream of a browser ($cookie): the socket
sub stream {
    my ($cookie) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5) or die $!;
    print $s "GET /api/notices HTTP/1.1\r\nHost: localhost\r\n"
           . "Cookie: $cookie\r\n\r\n";
    $s->blocking(0);
    ${*$s}{got} = '';
    return $s;
}

# what a stream received so far
sub got {
    my ($s) = @_;
    while (1) {
        my $n = sysread $s, my $buf, 65536;
        last unless $n;
        ${*$s}{got} .= $buf;
    }
    return ${*$s}{got};
}

my $soon_start = int(time) + $Lead + 6;
($st, $h, my $soon) = http('POST', '/api/rooms',
                           json => { title => 'Soon',
                                     start_at => iso($soon_start) });
($st) = http('POST', "/api/rooms/$soon->{code}/reminders", cookie => $bruno);
is($st, 200, "Bruno asks about a room starting in @{[$Lead + 6]} s");

# four streams of Bruno's: reuseport spreads them over both workers
my @bruno = map { stream($bruno) } 1 .. 4;
my $carla_s = stream($carla);

# the tray's sockets (`/` keeps one connection): after its hello, a
# socket whose handshake carries the cookie is told as a stream is
my $Hello = RoomsTest::ws_frame(text => '{"type":"hello"}');
sub tray_sock {
    my ($cookie, $origin) = @_;
    my ($ws) = RoomsTest::ws_open('/api/tray/ws', $Hello, port => $port,
        headers => ($cookie ? "Cookie: $cookie\r\n" : '')
                   . 'Origin: ' . ($origin // 'http://localhost') . "\r\n");
    ${*$ws}{msgs} = [] if $ws;
    return $ws;
}
# the messages a tray socket received so far, decoded
sub tray_got {
    my ($ws) = @_;
    for (split /\n/, RoomsTest::ws_recv($ws, 1000, 0.05)) {
        my ($text) = /^text (.*)$/s or next;
        push @{ ${*$ws}{msgs} }, eval { decode_json($text) } // {};
    }
    return ${*$ws}{msgs};
}
sub reminders_of { [grep { ($_->{type} // '') eq 'reminder' } @{ tray_got($_[0]) }] }
my @bruno_t = map { tray_sock($bruno) } 1 .. 4;
my $carla_t = tray_sock($carla);
my $none_t = tray_sock(undef);
my $other_t = tray_sock($bruno, 'http://evil.localhost');
is(scalar(grep { $_ } @bruno_t, $carla_t, $none_t, $other_t), 7,
   'seven tray sockets open');
ok(wait_for(5, sub { !grep { !grep { $_->{type} eq 'tray' } @{ tray_got($_) } }
                          @bruno_t, $carla_t, $none_t, $other_t }),
   'each gets its tray after its hello');
ok(wait_for(5, sub { got($carla_s) =~ /^retry: \d+/m }),
   'a stream opens: text/event-stream, with its retry')
    and like(got($carla_s), qr{^Content-Type: text/event-stream}mi,
             'its type');
my $re = qr/^event: reminder\ndata: (\{[^\n]*\})\n\n/m;
ok(wait_for($Lead + 10, sub { !grep { got($_) !~ $re } @bruno }),
   'each of Bruno\'s streams gets the reminder');
my ($data) = got($bruno[0]) =~ $re;
my $n = eval { decode_json($data) } // {};
is("$n->{code} $n->{title} $n->{start_at} $n->{path}",
   "$soon->{code} Soon @{[iso($soon_start)]} /r/$soon->{code}",
   'with the room\'s code, title, start and page');
ok(time < $soon_start, 'before the start');
sleep 2;
is_deeply([map { scalar(() = got($_) =~ /event: reminder/g) } @bruno],
          [(1) x 4], 'once per stream');
unlike(got($carla_s), qr/event: reminder/, 'Carla, who did not ask, gets none');

ok(wait_for(5, sub { !grep { !@{ reminders_of($_) } } @bruno_t }),
   'each of Bruno\'s tray sockets gets the reminder too');
my $tn = reminders_of($bruno_t[0])->[0] // {};
is(js($tn), js({ type => 'reminder', code => $soon->{code}, title => 'Soon',
                 start_at => iso($soon_start), path => "/r/$soon->{code}" }),
   'as {"type":"reminder"} with the stream\'s fields');
sleep 1.5;
is_deeply([map { scalar @{ reminders_of($_) } } @bruno_t], [(1) x 4],
          'once per socket');
is(join(' ', map { scalar @{ reminders_of($_) } } $carla_t, $none_t, $other_t),
   '0 0 0', 'none on a socket of Carla\'s, one without the cookie, or one '
   . 'another site opened with Bruno\'s cookie');
close $_ for @bruno_t, $carla_t, $none_t, $other_t;

close $_ for @bruno, $carla_s;

($st, $h, $r) = http('GET', '/api/notices');
ok($st == 204 && !cookie_of($h),
   'a browser without a token: 204 (EventSource stops), no token made');

# a reload closes the old workers' streams (EventSource comes back to the
# new ones), and no old worker waits on them
my @open = map { stream($bruno) } 1 .. 2;
ok(wait_for(5, sub { !grep { got($_) !~ /^retry:/m } @open }),
   'two streams are open');
my @trays = map { tray_sock($bruno) } 1 .. 2;
ok(wait_for(5, sub { !grep { !@{ tray_got($_) } } @trays }),
   'and two tray sockets that watch for reminders');
kill 'HUP', $master;
sub closed {
    my ($s) = @_;
    my $n = sysread $s, my $buf, 65536;
    ${*$s}{got} .= $buf if $n;
    return defined $n && $n == 0;
}
ok(wait_for(10, sub { !grep { !closed($_) } @open }),
   'a reload closes them');
ok(wait_for(10, sub { !grep { !grep { $_ eq 'EOF' } split /\n/,
                                  RoomsTest::ws_recv($_, 1000, 0.05) } @trays }),
   'and the tray sockets (the page opens another)');
close $_ for @open, @trays;
my $after = stream($bruno);
ok(wait_for(5, sub { got($after) =~ /^retry:/m }),
   'and a new one opens on the new workers');
close $after;

# ---- a signed-in person: reminders and the feed follow them ----

nginx_stop($dir);
nginx_conf($dir, $port, http => "rooms_reminder ${Lead}s;\n"
                              . '    rooms_user $http_x_test_user;');
$master = nginx_start($dir, $port);
ok($master, 'nginx runs with rooms_user') or BAIL_OUT(`tail -5 $dir/error.log`);
($st, $h, my $club) = http('POST', '/api/rooms',
                           json => { title => 'Club',
                                     start_at => iso(time + 3600) });
($st, $h, $r) = http('POST', "/api/rooms/$club->{code}/reminders",
                     headers => { 'X-Test-User' => 'ada@example.org' });
ok($st == 200 && !cookie_of($h),
   'Ada, signed in, asks on one browser: no browser token needed');
($st, $h, $r) = http('GET', "/api/rooms/$club->{code}/reminders",
                     headers => { 'X-Test-User' => 'ada@example.org' },
                     cookie => $anna);
is(js($r), '{"reminded":true}', 'another browser of hers sees it');
($st, $h, $r) = http('GET', "/api/rooms/$club->{code}/reminders",
                     cookie => $anna);
is(js($r), '{"reminded":false}', 'that browser signed out does not');
($st, $h, $r) = http('POST', '/api/calendar',
                     headers => { 'X-Test-User' => 'ada@example.org' });
my ($ada_feed) = ($r->{url} // '') =~ m{^http://localhost(/calendar/\S+)$};
is(feed_titles($ada_feed), 'Club', 'her feed lists it');

nginx_stop($dir);
is(join('', log_alerts($dir)), '', 'no alert, crit or emerg in the log');

done_testing();
