package RoomsLive;

# What the suites that run the REAL media worker share (t/010-host-ws.t,
# t/011-lobby.t): starting and stopping build/rooms-worker on a unix
# socket and a free UDP port, and live WebSocket clients that join a
# room, send messages and wait for the ones they expect.  Built on
# RoomsTest's ws_open(), ws_send() and ws_recv().

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

use RoomsTest;

our @EXPORT = qw(worker_path start_worker stop_worker join_frame send_json
                 next_frame expect_type expect_close drain ws_join
                 create_room get_room);

my $WorkerPid;

sub worker_path {
    return $ENV{TEST_NGINX_ROOMS_WORKER}
           || abs_path(dirname(__FILE__) . '/../..') . '/build/rooms-worker';
}

# A free UDP port, and the $n - 1 after it free too.
sub free_udp_port {
    my ($n) = @_;
    $n //= 1;
    for (1 .. 50) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Proto => 'udp')
            or die "udp: $!";
        my $port = $s->sockport;
        my @more = map {
            IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $port + $_, Proto => 'udp')
        } 1 .. $n - 1;
        close $_ for $s, grep { $_ } @more;
        return $port if $port + $n - 1 <= 65535 && !grep { !$_ } @more;
    }
    die "no $n free UDP ports in a row";
}

# Starts the media worker on control socket $sock, logging to $log, and
# waits until it listens.  A test killed from outside still stops it.
# @extra: more arguments; by default, as root, the control socket is for
# nginx's workers, which run as nobody (README, "Running the media worker").
#
# One media worker unless @extra says --workers N (then N of them, on
# ports $port .. $port + N - 1 and sockets $sock, $sock.1, ...: the suites
# that count on one port and one pid run one).
sub start_worker {
    my ($sock, $log, @extra) = @_;
    my %has = @extra % 2 ? () : @extra;
    my $workers = delete $has{'--workers'};
    @extra = (@extra, '--socket-user', 'nobody') if !%has && $> == 0;
    push @extra, '--workers', 1 unless defined $workers;
    my $worker = worker_path();
    unlink $sock;
    unlink "$sock.$_" for 1 .. ($workers // 1) - 1;
    my $port = free_udp_port($workers // 1);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec($worker, '--udp-port', $port, '--announce-ip', '127.0.0.1',
             '--bind-ip', '127.0.0.1', '--control', $sock, @extra)
            or POSIX::_exit(127);
    }
    $WorkerPid = $pid;
    $SIG{TERM} = $SIG{INT} = $SIG{HUP} = sub { stop_worker(); exit 1 };
    for (1 .. 300) {
        last if -S $sock;
        sleep 0.01;
    }
    die "the media worker did not start: " . `tail -5 $log` unless -S $sock;
}

sub stop_worker {
    return unless $WorkerPid;
    kill 'TERM', $WorkerPid;
    waitpid $WorkerPid, 0;
    undef $WorkerPid;
}

# a forked child must not stop the parent's worker when it exits
sub forget_worker {
    undef $WorkerPid;
}

END { stop_worker() }

# ---- WebSocket clients ----

sub join_frame {
    my (%j) = @_;
    return RoomsTest::ws_frame(text => encode_json({ type => 'join', %j }));
}

sub send_json {
    my ($ws, $msg) = @_;
    RoomsTest::ws_send($ws, RoomsTest::ws_frame(text => encode_json($msg)));
}

# The next frame as [line, decoded JSON or undef]; undef when none came.
# ws_recv() hands over every frame that arrived together: the ones after
# the first wait in the socket's own queue.
sub next_frame {
    my ($ws, $timeout) = @_;
    my $q = ${*$ws}{rooms_t_queue} //= [];
    if (!@$q) {
        my $lines = RoomsTest::ws_recv($ws, 1, $timeout // 5);
        push @$q, split /\n/, $lines;
    }
    my $line = shift @$q;
    return undef unless defined $line;
    my ($text) = $line =~ /^text (.*)$/s;
    return [$line, defined $text ? eval { decode_json($text) } : undef];
}

# Reads frames until one is a message of $type (returned, decoded); the
# ones skipped are kept in @{$skipped} when given.  undef on timeout.
sub expect_type {
    my ($ws, $type, $timeout, $skipped) = @_;
    my $deadline = time + ($timeout // 5);
    while ((my $left = $deadline - time) > 0) {
        my $f = next_frame($ws, $left) or return undef;
        return $f->[1] if ref $f->[1] && ($f->[1]{type} // '') eq $type;
        push @$skipped, $f->[0] if $skipped;
        return undef if $f->[0] eq 'EOF';
    }
    return undef;
}

# Reads until the server closes: the close line ("close <code> <reason>").
sub expect_close {
    my ($ws, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    while ((my $left = $deadline - time) > 0) {
        my $f = next_frame($ws, $left) or return undef;
        return $f->[0] if $f->[0] =~ /^close /;
        return 'EOF' if $f->[0] eq 'EOF';
    }
    return undef;
}

# Everything that arrives within $wait seconds, one line each.
sub drain {
    my ($ws, $wait) = @_;
    my $q = ${*$ws}{rooms_t_queue} //= [];
    my $out = join '', map { "$_\n" } @$q;
    @$q = ();
    return $out . RoomsTest::ws_recv($ws, 1000, $wait // 0.3);
}

# Opens a WebSocket to room $code and joins; while the link to the media
# worker comes up joins are refused media_unavailable, so that is retried.
# port and headers (extra handshake lines) go to the handshake, the rest
# into the join.  Returns ($ws, the first message decoded, its line).
sub ws_join {
    my ($code, %opt) = @_;
    my $port = delete $opt{port};
    my $headers = delete $opt{headers};
    $opt{name} //= 'Ada';
    my $deadline = time + 8;
    for (;;) {
        my ($ws) = RoomsTest::ws_open("/api/rooms/$code/ws", join_frame(%opt),
                                      $port ? (port => $port) : (),
                                      $headers ? (headers => $headers) : ());
        return (undef, undef, 'no 101') unless $ws;
        my $f = next_frame($ws) // ['nothing', undef];
        if (($f->[0] =~ /media_unavailable/) && time < $deadline) {
            close $ws;
            sleep 0.1;
            next;
        }
        return ($ws, $f->[1], $f->[0]);
    }
}

sub create_room {
    my (%fields) = @_;
    my ($st, $h, $room) = RoomsTest::http('POST', '/api/rooms',
                                          json => \%fields);
    die "create: $st" unless $st == 201;
    return $room;
}

sub get_room {
    my ($code) = @_;
    my ($st, $h, $room) = RoomsTest::http('GET', "/api/rooms/$code");
    return ref $room ? $room : {};
}

1;
