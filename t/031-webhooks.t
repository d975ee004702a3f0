# Webhooks (rooms_webhook, README "Webhooks") through a whole nginx
# (master, two workers: t/lib/RoomsServer.pm), the REAL media worker and a
# small HTTP receiver this suite starts (a forked Perl server that records
# every request and answers 204):
#
# - "nginx -t" refuses an https:// URL (not spoken), a URL that is not
#   http://, and a secret shorter than 16 bytes; it passes a good one;
# - a room's life reaches the receiver: room.created, room.opened (first
#   person in), participant.joined for the host and a guest,
#   participant.left for both, room.ended; each once (two nginx workers,
#   one sender), each with a unique id and a time, POSTed as JSON, and each
#   X-Rooms-Signature verifies: HMAC-SHA256 of "<X-Rooms-Timestamp>.<body>"
#   with the secret, by Perl's Digest::SHA and by "openssl dgst -hmac" as
#   README shows; a wrong secret does not verify;
# - the receiver is down while a second room lives and nginx restarts
#   meanwhile, and a third room is created after the restart: the failed
#   deliveries are counted, and once the receiver is back (answering its
#   first request 503, which is tried again) it gets every event, in the
#   order they happened, none lost and none twice;
# - another program holds the store's write lock while a host joins: the
#   events are kept by the nginx worker, and stored and sent once it is
#   free;
# - nginx reloads while a delivery is under way (the receiver takes 3 s to
#   answer): the event arrives once, not again from the new worker 0;
# - room.starting_soon: a room scheduled 5 minutes ahead (rooms_reminder
#   is 10 minutes by default) gets it at once, with its start_at, signed;
#   once, also after an nginx restart; a room starting in an hour and the
#   rooms that were never scheduled get none.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

use RoomsTest;
use RoomsLive;
use RoomsServer;
use RoomsStore;

plan(skip_all => 'no media worker: run make first') unless -x worker_path();

my $dir = tempdir('rooms-hooks-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $port = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $mport = free_port();           # /metrics
my $rport = free_port();           # the receiver
my $sock = "$dir/worker.sock";
my $secret = 'webhook-secret-0123456789abcdef';
my $log = "$dir/received.jsonl";
$ENV{TEST_NGINX_SERVER_PORT} = $port;       # RoomsLive's clients

sub http { RoomsTest::http(@_, port => $port) }

# ---- the receiver ----

# Forks a server on $rport that appends each request (its first line,
# headers, body) to $log as one JSON line, and answers 204; with $refuse,
# the first request is answered 503 instead and kept in $log.refused;
# with 'slow', the first is answered after 3 s ($log.slow made at once).
sub receiver_start {
    my ($refuse) = @_;
    my $slow = ($refuse // '') eq 'slow';
    $refuse = 0 if $slow;
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                    LocalPort => $rport, Listen => 16,
                                    ReuseAddr => 1, Proto => 'tcp')
        or die "receiver: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        while (my $c = $srv->accept) {
            my $head = '';
            while (defined(my $l = <$c>)) {
                $head .= $l;
                last if $l eq "\r\n";
            }
            my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
            my $body = '';
            read($c, $body, $len) if $len;
            my %h;
            for (split /\r\n/, $head) {
                $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
            }
            my ($line) = $head =~ /^([^\r\n]*)/;
            if ($slow) {
                $slow = 0;
                open my $s, '>', "$log.slow" or POSIX::_exit(1);
                close $s;
                sleep 3;
            }
            if ($refuse) {
                $refuse = 0;
                open my $f, '>', "$log.refused" or POSIX::_exit(1);
                print $f $body;
                close $f;
                print $c "HTTP/1.1 503 Busy\r\nConnection: close\r\n\r\n";
                close $c;
                next;
            }
            open my $f, '>>', $log or POSIX::_exit(1);
            print $f encode_json({ line => $line, headers => \%h,
                                   body => $body }), "\n";
            close $f;
            print $c "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
            close $c;
        }
        POSIX::_exit(0);
    }
    close $srv;
    return $pid;
}

sub receiver_stop {
    my ($pid) = @_;
    kill 'KILL', $pid;
    waitpid $pid, 0;
}

# every request received so far, with its event decoded ({event})
sub received {
    open my $f, '<', $log or return ();
    my @r = map { my $r = decode_json($_); $r->{event} = eval {
                      decode_json($r->{body}) } // {}; $r } <$f>;
    close $f;
    return @r;
}

# the events of room $code, "type" or "type:name" for participants
sub story {
    my ($code, @r) = @_;
    return map {
        my $e = $_->{event};
        $e->{participant} ? "$e->{type}:$e->{participant}{name}"
                          : $e->{type}
    } grep { ($_->{event}{room}{code} // '') eq $code } @r;
}

sub metric {
    my ($name) = @_;
    my ($st, undef, $body) = RoomsTest::http('GET', '/metrics',
                                             port => $mport);
    return $body =~ /^\Q$name\E (\d+)$/m ? $1 : -1;
}

# ---- nginx -t ----

my %bad = (
    "https://127.0.0.1:$rport/hook $secret" => qr/https is not supported/,
    "ftp://127.0.0.1/hook $secret" => qr/invalid rooms_webhook URL/,
    "http://127.0.0.1:$rport/hook short-secret" => qr/secret is too short/,
);
for my $args (sort keys %bad) {
    nginx_conf($dir, $port, http => "rooms_webhook $args;");
    my ($rc, $out) = nginx_test($dir);
    ok($rc != 0 && $out =~ $bad{$args}, "nginx -t refuses rooms_webhook "
       . "$args") or diag($out);
}

my $conf = "rooms_webhook http://127.0.0.1:$rport/hook $secret;\n"
         . "    server { listen 127.0.0.1:$mport;\n"
         . "             location = /metrics { rooms_metrics; } }";
nginx_conf($dir, $port, socket => $sock, http => $conf);
my ($rc, $out) = nginx_test($dir);
is($rc, 0, 'nginx -t passes a good rooms_webhook') or diag($out);
unlink "$dir/error.log";           # the refusals above are no fault

# ---- a room's life ----

my $rpid = receiver_start();
start_worker($sock, "$dir/worker.log");
my $master = nginx_start($dir, $port);
ok($master, 'nginx runs') or BAIL_OUT(`tail -5 $dir/error.log`);

my $a = create_room(title => 'Hooks');
my ($host, $hw) = ws_join($a->{code}, name => 'Hanna',
                          host_key => $a->{host_key});
my ($guest, $gw) = ws_join($a->{code}, name => 'Gino');
is("$hw->{type} $gw->{type}", 'welcome welcome', 'a host and a guest are in');
expect_type($host, 'participant_joined');
send_json($guest, { type => 'leave' });
expect_close($guest);
close $guest;
expect_type($host, 'participant_left');
my ($st) = http('DELETE', "/api/rooms/$a->{code}", key => $a->{host_key});
is($st, 200, 'the host ends the room');
expect_close($host);
close $host;

my @want_a = ('room.created', 'room.opened', 'participant.joined:Gino',
              'participant.joined:Hanna', 'participant.left:Gino',
              'participant.left:Hanna', 'room.ended');
wait_for(15, sub { story($a->{code}, received()) >= @want_a });
sleep 1;                           # anything more would come now
my @r = received();
my @story = story($a->{code}, @r);
is(join(' ', sort @story), join(' ', sort @want_a),
   'every event of the room came, each once') or diag("@story");

sub before {
    my ($x, $y, @s) = @_;
    my ($i) = grep { $s[$_] eq $x } 0 .. $#s;
    my ($j) = grep { $s[$_] eq $y } 0 .. $#s;
    return defined $i && defined $j && $i < $j;
}
is($story[0], 'room.created', 'room.created first');
ok(before('participant.joined:Gino', 'participant.left:Gino', @story)
   && before('participant.left:Gino', 'room.ended', @story),
   'the guest joined, then left, then the room ended');

my (%ids, @bad_sig, @bad_req);
for my $q (@r) {
    my $h = $q->{headers};
    my $want = hmac_sha256_hex("$h->{'x-rooms-timestamp'}.$q->{body}",
                               $secret);
    push @bad_sig, $q->{body}
        unless ($h->{'x-rooms-signature'} // '') eq "sha256=$want"
               && ($h->{'x-rooms-timestamp'} // '') =~ /^\d{10}$/
               && abs($h->{'x-rooms-timestamp'} - time) < 120;
    push @bad_req, $q->{line}
        unless $q->{line} eq 'POST /hook HTTP/1.1'
               && $h->{'content-type'} eq 'application/json'
               && ($q->{event}{id} // '') =~ /^[0-9a-f]{32}$/
               # the raw text: a decoded 1796335200.120 prints .12
               && $q->{body} =~ /"time":\d{10}\.\d{3}[,}]/
               && abs($q->{event}{time} - time) < 120
               && ($q->{event}{room}{id} // '') =~ /^\d+$/;
    $ids{ $q->{event}{id} // '' }++;
}
ok(!@bad_sig, 'every X-Rooms-Signature verifies (HMAC-SHA256 of '
   . '"timestamp.body")') or diag(join "\n", @bad_sig);
ok(!@bad_req, 'every request is a POST of JSON with an id and a time')
    or diag(join "\n", @bad_req);
is(scalar(grep { $_ > 1 } values %ids), 0, 'no id twice');

# the shell check README shows
my $q = $r[0];
open my $f, '>', "$dir/signed" or die;
print $f "$q->{headers}{'x-rooms-timestamp'}.$q->{body}";
close $f;
my ($hex) = `openssl dgst -sha256 -hmac '$secret' < $dir/signed`
            =~ /([0-9a-f]{64})\s*$/;
is("sha256=" . ($hex // ''), $q->{headers}{'x-rooms-signature'},
   'openssl dgst -sha256 -hmac verifies it too');
($hex) = `openssl dgst -sha256 -hmac 'not-the-secret-0123456' < $dir/signed`
         =~ /([0-9a-f]{64})\s*$/;
isnt("sha256=" . ($hex // ''), $q->{headers}{'x-rooms-signature'},
     'another secret does not');

my $sent = metric('rooms_webhook_events_sent_total');
ok($sent >= @want_a, "rooms_webhook_events_sent_total: $sent");

# ---- the receiver down, nginx restarted meanwhile ----

receiver_stop($rpid);
my $before = scalar(received());

my $b = create_room(title => 'While down');
my ($bh, $bhw) = ws_join($b->{code}, name => 'Bea',
                         host_key => $b->{host_key});
is($bhw->{type}, 'welcome', 'a host is in the second room');
sub participants {
    my ($code) = @_;
    my (undef, undef, $room) = http('GET', "/api/rooms/$code");
    return ref $room ? $room->{participants} : -1;
}
wait_for(5, sub { participants($b->{code}) == 1 });
close $bh;
ok(wait_for(5, sub { participants($b->{code}) == 0 }), 'and left');
ok(wait_for(10, sub { metric('rooms_webhook_deliveries_failed_total') > 0 }),
   'deliveries to a receiver that is down fail, and are counted');

nginx_stop($dir);
$master = nginx_start($dir, $port);
ok($master, 'nginx restarted, the receiver still down')
    or BAIL_OUT(`tail -5 $dir/error.log`);

my $c = create_room(title => 'After the restart');
sleep 1.5;
is(scalar(received()), $before, 'nothing was received while it was down');

$rpid = receiver_start('refuse the first');
ok(wait_for(30, sub { story($c->{code}, received()) >= 1 }),
   'the receiver is back: the events come');
sleep 1;
@r = received();
my @late = @r[$before .. $#r];
my @seq = map { story($_->{event}{room}{code} // '', $_) } @late;
my @b = story($b->{code}, @late);
is(join(' ', sort @b), join(' ', sort 'room.created', 'room.opened',
                            'participant.joined:Bea', 'participant.left:Bea'),
   'every event of the second room, each once') or diag("@b");
is($b[0], 'room.created', 'its room.created first');
ok(before('participant.joined:Bea', 'participant.left:Bea', @b),
   'the join before the leave');
is(join(' ', story($c->{code}, @late)), 'room.created',
   'the third room\'s room.created, made after the restart');
is($late[-1]{event}{room}{code}, $c->{code}, 'and it came last: in order');
is(scalar(@late), 5, 'five events in all: none lost, none twice')
    or diag(join "\n", map { $_->{body} } @late);
my $refused = do { local (@ARGV, $/) = ("$log.refused"); <> } // '';
is($refused, $late[0]{body}, 'the event answered 503 was sent again, '
   . 'first, as it was');
%ids = ();
$ids{ $_->{event}{id} }++ for @r;
is(scalar(grep { $_ > 1 } values %ids), 0, 'no id twice over the whole run');
is(metric('rooms_webhook_events_dropped_total'), 0, 'nothing dropped');

# ---- the store locked by another program ----

my $g = create_room(title => 'Locked store');
ok(wait_for(10, sub { story($g->{code}, received()) >= 1 }),
   'a room created before the lock: its event came');
my $lock = store_lock(store_of($dir));
ok(wait_for(5, sub { store_locked(store_of($dir)) }),
   'another program holds the store\'s write lock');
my ($gh, $ghw) = ws_join($g->{code}, name => 'Gil',
                         host_key => $g->{host_key});
is($ghw->{type}, 'welcome', 'a host joins meanwhile');
ok(wait_for(5, sub {
       `cat $dir/error.log` =~ /a webhook event of room \d+ is kept/
   }), 'its events are kept while the store is locked');
is(join(' ', story($g->{code}, received())), 'room.created',
   'and not sent yet');
store_unlock($lock);
ok(wait_for(10, sub { story($g->{code}, received()) >= 3 }),
   'once the store is free they are stored and sent');
sleep 1;
is(join(' ', sort(story($g->{code}, received()))),
   'participant.joined:Gil room.created room.opened', 'each once');
close $gh;

# ---- a reload while a delivery is under way ----

receiver_stop($rpid);
$rpid = receiver_start('slow');
my $d = create_room(title => 'Reload');
ok(wait_for(10, sub { -e "$log.slow" }), 'a delivery is under way');
kill 'HUP', $master;
ok(wait_for(15, sub { story($d->{code}, received()) >= 1 }),
   'nginx reloads meanwhile: the event is delivered');
sleep 3;                           # a second sending would have come now
is(join(' ', story($d->{code}, received())), 'room.created',
   'once: the new worker 0 waited for the old one to finish');
my $e = create_room(title => 'After the reload');
ok(wait_for(10, sub { story($e->{code}, received()) >= 1 }),
   'and sends the events after it');

# ---- room.starting_soon ----

sub iso { POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }
sub soon_events {
    my ($code) = @_;
    return grep { $_->{event}{type} eq 'room.starting_soon'
                  && (!$code || $_->{event}{room}{code} eq $code) }
           received();
}
my $soon_at = int(time) + 300;
my $soon = create_room(title => 'Soon', start_at => iso($soon_at));
my $later = create_room(title => 'Later', start_at => iso(time + 3600));
ok(wait_for(10, sub { soon_events($soon->{code}) >= 1 }),
   'a room starting in 5 minutes: room.starting_soon');
my ($se) = soon_events($soon->{code});
is($se->{event}{room}{start_at}, iso($soon_at), 'with its start_at');
is($se->{headers}{'x-rooms-signature'}, 'sha256=' . hmac_sha256_hex(
       "$se->{headers}{'x-rooms-timestamp'}.$se->{body}", $secret),
   'signed as every event');
nginx_stop($dir);
$master = nginx_start($dir, $port);
ok($master, 'nginx restarted') or BAIL_OUT(`tail -5 $dir/error.log`);
sleep 3;                           # a second one would have come now
is(scalar(soon_events($soon->{code})), 1, 'once, also across the restart');
is(join(' ', map { $_->{event}{room}{code} } soon_events()), $soon->{code},
   'none for a room starting in an hour, nor for rooms never scheduled');

nginx_stop($dir);
receiver_stop($rpid);
stop_worker();

my $errors = `grep -E '\\[(alert|crit|emerg)\\]' $dir/error.log`;
is($errors, '', 'no alert, crit or emerg in the error log')
    or diag($errors);

done_testing();
