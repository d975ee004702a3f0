# A call survives an nginx reload (docs/protocol.md "Resuming after a
# reload"), end to end through two nginx workers and the REAL media
# worker:
#
# - every welcome carries a resume_token; `nginx -s reload` (HUP to the
#   master) closes the old workers' WebSockets with 1001, and the
#   participants stay in the room: nobody hears participant_left, the
#   live count stays;
# - each browser resumes on a new WebSocket (a new worker) with its
#   token and the join's credentials: "resumed" with the same id and
#   role, the others in it, a new resume_token; the session is the same
#   (the worker logs no new join and no leave), and messages flow again
#   both ways (a host's mute reaches the guest on its new connection);
# - a token resumes once: the used one, a wrong one, or the right one
#   with another browser's guest token gets resume_failed and close 4410;
# - a participant not resumed within the grace (10 s) leaves: the others
#   hear participant_left then, and its resume gets 4410;
# - no token is ever written to a log.

use lib 't/lib';
use Test::Nginx::Socket;
use RoomsTest;
use RoomsLive;
use Cwd ();
use JSON::PP;
use Time::HiRes qw(sleep time);

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
our $Worker = worker_path();
our $Sock = "$Dir/worker.sock";
our $WorkerLog = "$Dir/worker.log";

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}

plan('no_plan');

sub master_pid {
    my $root = $ENV{TEST_NGINX_SERVROOT} || Cwd::cwd() . '/t/servroot';
    open my $in, '<', "$root/logs/nginx.pid" or return 0;
    my $pid = <$in>;
    chomp $pid;
    return $pid;
}

sub error_log {
    my $root = $ENV{TEST_NGINX_SERVROOT} || Cwd::cwd() . '/t/servroot';
    open my $in, '<', "$root/logs/error.log" or return '';
    local $/;
    return <$in>;
}

sub worker_log {
    open my $in, '<', $WorkerLog or return '';
    local $/;
    return <$in>;
}

# Opens a WebSocket to room $code whose first message is a resume; a new
# worker whose link to the media worker is not up yet refuses it
# media_unavailable (the token is not spent then), so that is retried.
# Returns ($ws, the first message decoded, its line).
sub ws_resume {
    my ($code, %opt) = @_;
    my $deadline = time + 8;
    for (;;) {
        my ($ws) = RoomsTest::ws_open("/api/rooms/$code/ws",
            RoomsTest::ws_frame(text => encode_json({ type => 'resume',
                                                      %opt })));
        return (undef, undef, 'no 101') unless $ws;
        my $f = next_frame($ws) // ['nothing', undef];
        if ($f->[0] =~ /media_unavailable/ && time < $deadline) {
            close $ws;
            sleep 0.1;
            next;
        }
        return ($ws, $f->[1], $f->[0]);
    }
}

# HUP to the master, then both old WebSockets see 1001 and EOF
sub reload_nginx {
    my (@ws) = @_;
    kill 'HUP', master_pid();
    for my $ws (@ws) {
        like(expect_close($ws, 10) // 'nothing', qr/^close 1001/,
             'the reload closes the old WebSocket with 1001');
    }
}

sub check {
    my ($block) = @_;
    my $name = $block->name;

    if ($name =~ /resume after a reload/) {
        my $room = create_room(title => 'Resume');
        my ($code, $key) = @{$room}{qw(code host_key)};
        my ($h, $hw) = ws_join($code, name => 'Hanna', host_key => $key);
        my ($g, $gw) = ws_join($code, name => 'Gino');
        expect_type($h, 'participant_joined');
        is($hw && $hw->{type}, 'welcome', 'the host is in');
        like($hw && $hw->{resume_token} // '', qr/^[A-Za-z0-9_-]{22}$/,
             'its welcome carries a resume_token (128 bits)');
        like($gw && $gw->{resume_token} // '', qr/^[A-Za-z0-9_-]{22}$/,
             'so does the guest\'s');
        isnt($hw->{resume_token}, $gw->{resume_token}, 'each its own');
        is(get_room($code)->{participants}, 2, 'two in the room');
        my $joins = () = worker_log() =~ /participant joined: room \d+ \($code\)/g;

        reload_nginx($h, $g);

        sleep 0.5;
        is(get_room($code)->{participants}, 2,
           'after the reload, the count is still 2');

        my ($g2, $gr, $gl) = ws_resume($code,
                                       resume_token => $gw->{resume_token},
                                       guest_token => $gw->{guest_token});
        is($gr && $gr->{type}, 'resumed', 'the guest resumes') or diag $gl;
        is($gr && $gr->{id}, $gw->{id}, 'as the same participant');
        is($gr && $gr->{role}, 'guest', 'with its role');
        is_deeply([map { $_->{id} } @{$gr->{participants} // []}],
                  [$hw->{id}], 'the host is in the room with it');
        like($gr && $gr->{resume_token} // '', qr/^[A-Za-z0-9_-]{22}$/,
             'and a new resume_token');
        isnt($gr && $gr->{resume_token}, $gw->{resume_token},
             'not the one it used');
        ok(!exists $gr->{guest_token}, 'no guest_token: it has its own');

        my ($h2, $hr, $hl) = ws_resume($code,
                                       resume_token => $hw->{resume_token},
                                       guest_token => $hw->{guest_token},
                                       host_key => $key);
        is($hr && $hr->{type}, 'resumed', 'the host resumes') or diag $hl;
        is($hr && $hr->{id}, $hw->{id}, 'as the same participant');
        is($hr && $hr->{role}, 'host', 'still the host');

        # messages flow again, both ways, and the host is a host
        send_json($h2, { type => 'mute', id => $gw->{id} });
        ok(expect_type($g2, 'mute_request', 3),
           'the host\'s mute reaches the guest on its new connection');
        send_json($g2, { type => 'media', audio => JSON::PP::false,
                         video => JSON::PP::true });
        my $pm = expect_type($h2, 'participant_media', 3);
        ok($pm && $pm->{id} eq $gw->{id} && !$pm->{audio},
           'the guest\'s media reaches the host');

        my $all = drain($h2, 0.5) . drain($g2, 0.5);
        unlike($all, qr/participant_left|participant_joined/,
               'nobody was shown leaving or joining');
        is(get_room($code)->{participants}, 2, 'the count is 2');
        my $wl = worker_log();
        my $joins2 = () = $wl =~ /participant joined: room \d+ \($code\)/g;
        is($joins2, $joins, 'the media worker saw no new join');
        unlike($wl, qr/participant left: room \d+ \($code\)/,
               'and nobody leave: the same sessions');
        like($wl, qr/participant resumed: room \d+ \($code\)/,
             'it logs the resumes');

        # a token resumes once; a wrong one, or another browser's, nothing
        my ($x, $xr) = ws_resume($code, resume_token => $gw->{resume_token},
                                 guest_token => $gw->{guest_token});
        is($xr && $xr->{code}, 'resume_failed',
           'the used token again: resume_failed');
        like(expect_close($x) // '', qr/^close 4410/, 'close 4410');
        ($x, $xr) = ws_resume($code, resume_token => 'A' x 22,
                              guest_token => $gw->{guest_token});
        is($xr && $xr->{code}, 'resume_failed', 'a wrong token: refused');
        like(expect_close($x) // '', qr/^close 4410/, 'close 4410');
        ($x, $xr) = ws_resume($code, resume_token => $gr->{resume_token},
                              guest_token => $hw->{guest_token});
        is($xr && $xr->{code}, 'resume_failed',
           'the right token with another browser\'s guest token: refused');
        like(expect_close($x) // '', qr/^close 4410/, 'close 4410');
        ($x, $xr) = ws_resume($code, resume_token => $gr->{resume_token});
        is($xr && $xr->{code}, 'bad_message', 'no guest token: bad_message');
        like(expect_close($x) // '', qr/^close 4400/, 'close 4400');
        unlike(drain($h2, 0.3), qr/participant_left/,
               'the refusals changed nothing for the others');

        # not resumed within the grace: it leaves, and then cannot resume
        reload_nginx($h2, $g2);
        my ($h3, $hr3) = ws_resume($code,
                                   resume_token => $hr->{resume_token},
                                   guest_token => $hw->{guest_token},
                                   host_key => $key);
        is($hr3 && $hr3->{type}, 'resumed', 'the host resumes again, with '
           . 'the token its last resume gave');
        my $t0 = time;
        my $left = expect_type($h3, 'participant_left', 20);
        my $dt = time - $t0;
        is($left && $left->{id}, $gw->{id},
           "the guest, not back within the grace, leaves ($dt s)");
        ok($dt > 5, 'and not at once');
        ($x, $xr) = ws_resume($code, resume_token => $gr->{resume_token},
                              guest_token => $gw->{guest_token});
        is($xr && $xr->{code}, 'resume_failed',
           'its resume after the grace: resume_failed');
        like(expect_close($x) // '', qr/^close 4410/, 'close 4410');
        is(get_room($code)->{participants}, 1, 'the count is 1');

        # a browser told 4410 joins again, as its client does
        my ($g4, $gw4) = ws_join($code, name => 'Gino',
                                 guest_token => $gw->{guest_token});
        is($gw4 && $gw4->{type}, 'welcome', 'and joins again from scratch');

        my $logs = error_log() . worker_log();
        for my $t ($hw->{resume_token}, $gw->{resume_token},
                   $gr->{resume_token}, $hr->{resume_token},
                   $hr3->{resume_token})
        {
            ok(index($logs, $t) < 0, 'no resume token is in a log');
        }
        close $_ for $h3, $g4;
    }
}

add_response_body_check(\&check);

$RoomsTest::HttpConfig = <<"_EOC_";
    rooms_zone   rooms:1m;
    rooms_store  $ENV{TEST_NGINX_ROOMS_STORE};
    rooms_media_socket $Sock;
_EOC_

start_worker($Sock, $WorkerLog);

master_on();
workers(2);
no_root_location();
no_shuffle();
run_tests();

stop_worker();

__DATA__

=== TEST 1: resume after a reload
--- request
GET /
--- error_code: 200
--- timeout: 60
--- no_error_log
[error]
[alert]
