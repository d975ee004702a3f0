package RoomsFake;

# What the suites that run the FAKE media worker share (t/009-media-link.t,
# t/015-media-records.t): building t/lib/fake_media_worker.c (the suite is
# skipped when it does not build), starting it on $FakeSock with its log
# at $FakeLog, stopping it, and reading what it logged since a mark (a
# length of the log), at once or waiting for a line.  The fake speaks the
# real handshake and rings and logs every record it gets.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

use RoomsTest;

our @EXPORT = qw($FakeSock $FakeLog start_fake stop_fake fake_log
                 fake_since fake_wait fake_line);

my $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
my $Top = abs_path(dirname(__FILE__) . '/../..');
my $Fake = "$Dir/fake_media_worker";
my $FakePid;

our $FakeSock = "$Dir/media.sock";
our $FakeLog = "$Dir/fake.log";

my $cc = $ENV{CC} || 'cc';
if (system("$cc -O1 -I$Top/common -o $Fake $Top/t/lib/fake_media_worker.c "
           . "$Top/common/rooms_ring.c $Top/common/rooms_msg.c "
           . "$Top/common/rooms_room.c $Top/common/rooms_token.c "
           . "-ljansson -lcrypto 2>$Dir/cc.log") != 0)
{
    plan(skip_all => "the fake media worker does not build: "
                     . `cat $Dir/cc.log`);
}

# Starts the fake with extra arguments (e.g. "--version", 99); it is
# ready once it says so.
sub start_fake {
    my @args = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        { exec $Fake, $FakeSock, $FakeLog, @args; }
        POSIX::_exit(127);
    }
    $FakePid = $pid;
    for (1 .. 200) {
        last if -S $FakeSock && fake_log() =~ /listening\n\z/;
        sleep 0.01;
    }
}

sub stop_fake {
    return unless $FakePid;
    kill 'TERM', $FakePid;
    waitpid $FakePid, 0;
    undef $FakePid;
}

END { stop_fake() }

sub fake_log {
    open my $in, '<', $FakeLog or return '';
    local $/;
    my $s = <$in> // '';
    close $in;
    return $s;
}

# the lines the fake logged since $mark
sub fake_since {
    my ($mark) = @_;
    return substr(fake_log(), $mark);
}

# waits until the fake logged something matching $re after $mark
sub fake_wait {
    my ($mark, $re, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    while (time < $deadline) {
        return 1 if fake_since($mark) =~ $re;
        sleep 0.02;
    }
    return 0;
}

# the first line matching $re logged after $mark, waiting for it ('' if
# none comes)
sub fake_line {
    my ($mark, $re, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    while (time < $deadline) {
        my ($line) = grep { $_ =~ $re } split /\n/, fake_since($mark);
        return $line if defined $line;
        sleep 0.02;
    }
    return '';
}

1;
