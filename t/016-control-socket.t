# Who may use the media worker's control socket (README, "Running the
# media worker"): a ring slot is trusted with JOIN records, roles
# included, so only the nginx workers' user may hold one.
#
# - the socket file is mode 0660, owned by the nginx workers' user and
#   group (nobody:nogroup, nginx's own default, as the harness runs it);
# - a process of another user cannot connect (the file's mode);
# - with the file opened to everyone (an admin's chmod 0666), that process
#   still gets no ring slot: the worker checks the peer's credentials
#   (SO_PEERCRED), closes the connection without a welcome and says so in
#   its log, however many times it tries;
# - the nginx workers (nobody) and a process of that user are welcome,
#   and a join through nginx works all along.

use lib 't/lib';
use Test::More import => [qw(note)];
use Test::Nginx::Socket;
use RoomsTest;
use RoomsLive;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use IO::Select;
use IO::Socket::UNIX;
use POSIX qw();
use Socket qw(SOCK_SEQPACKET);
use Time::HiRes qw(sleep time);

our $Dir = $ENV{TEST_NGINX_ROOMS_DIR};
our $Worker = worker_path();
our $Sock = "$Dir/worker.sock";
our $WorkerLog = "$Dir/worker.log";

# a user and group that exist nowhere: not root, not nobody
our $Stranger = 12345;

if (!-x $Worker) {
    plan(skip_all => "no media worker at $Worker: run make first");
}
if ($> != 0) {
    plan(skip_all => 'needs root, to act as other users');
}

plan('no_plan');

# the protocol's magic and version, from the header both sides build with
sub proto {
    my $h = abs_path(dirname(__FILE__) . '/..') . '/common/rooms_proto.h';
    open my $in, '<', $h or die "$h: $!";
    local $/;
    my $text = <$in>;
    my ($version) = $text =~ /#define\s+ROOMS_PROTO_VERSION\s+(\d+)/;
    my ($magic) = $text =~ /#define\s+ROOMS_PROTO_MAGIC\s+0x([0-9a-fA-F]+)/;
    return (hex $magic, $version);
}

our ($Magic, $Version) = proto();

# In a child running as $uid:$gid, opens $n control connections at once,
# each sending a hello (@groups: its supplementary groups), and reports what each got: "EACCES" (connect
# refused by the file's mode), "closed" (EOF, no welcome), "welcome
# <status> <slot>", or "nothing".  The connections stay open until all
# are answered, as a slot thief's would.
sub probe {
    my ($uid, $gid, $n, @groups) = @_;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $r;
        RoomsLive::forget_worker();
        POSIX::setgid($gid);
        $) = join ' ', $gid, $gid, @groups;
        POSIX::setuid($uid);
        my @out;
        if ($> != $uid || $< != $uid) {
            print $w "setuid failed\n";
            POSIX::_exit(1);
        }
        my @conns;
        for (1 .. $n) {
            my $c = IO::Socket::UNIX->new(Type => SOCK_SEQPACKET,
                                          Peer => $Sock);
            if (!$c) {
                push @out, $!{EACCES} ? 'EACCES' : "connect: $!";
                next;
            }
            $c->send(pack('VVVV', $Magic, $Version, $$, 0));
            push @conns, $c;
        }
        for my $c (@conns) {
            my $buf = '';
            if (IO::Select->new($c)->can_read(3)) {
                $c->recv($buf, 64);
                push @out, length $buf == 24
                    ? sprintf('welcome %d %d', (unpack 'VVVVVV', $buf)[2, 3])
                    : 'closed';
            } else {
                push @out, 'nothing';
            }
        }
        print $w "$_\n" for @out;
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    my @got = map { chomp; $_ } <$r>;
    waitpid $pid, 0;
    return @got;
}

sub count {
    my ($what, @got) = @_;
    return scalar grep { /^$what/ } @got;
}

sub check {
    my ($block) = @_;

    my @st = stat $Sock;
    my $nobody = getpwnam('nobody');
    my $nogroup = getgrnam('nogroup');
    is(sprintf('%04o', $st[2] & 07777), '0660', 'the socket is mode 0660');
    is("$st[4]:$st[5]", "$nobody:$nogroup",
       'owned by the nginx workers\' user and group');

    # nginx's workers (nobody) are linked: a join gets its welcome
    my $room = create_room(title => 'Door');
    my ($ws, $m) = ws_join($room->{code}, name => 'Host',
                           host_key => $room->{host_key});
    is($m && $m->{type}, 'welcome', 'a join through nginx is welcome');
    close $ws if $ws;

    my @got = probe($Stranger, $Stranger, 3);
    is(count('EACCES', @got), 3,
       'another user cannot connect: the file\'s mode') or note("@got");

    # an admin opens the file to everyone: the credentials still decide
    chmod 0666, $Sock;
    my $before = -s $WorkerLog;
    @got = probe($Stranger, $Stranger, 70);
    is(count('closed', @got), 70,
       'another user: 70 connections, each closed without a welcome')
        or note(join ', ', @got[0 .. 4]);
    is(count('welcome', @got), 0, 'and no ring slot');

    my $log = '';
    if (open my $in, '<', $WorkerLog) {
        seek $in, $before, 0;
        local $/;
        $log = <$in> // '';
    }
    like($log, qr/\[warn\] control connection refused: pid \d+ uid $Stranger gid $Stranger\b/,
         'the worker logs the refusal with the peer\'s uid');
    my $lines = () = $log =~ /control connection refused/g;
    ok($lines >= 1 && $lines <= 4, "a storm is logged once a second "
       . "($lines lines)");

    # the nginx workers' user is welcome, and a free slot was left for it
    @got = probe($nobody, $nogroup, 1);
    like($got[0] // '', qr/^welcome 0 \d+$/,
         'the nginx workers\' user gets a welcome and a slot');

    # a member of the group by its primary gid, under another uid
    @got = probe($Stranger, $nogroup, 1);
    like($got[0] // '', qr/^welcome 0 \d+$/,
         'a process of the nginx workers\' group gets a welcome');

    # or by a supplementary group
    @got = probe($Stranger, $Stranger, 1, $nogroup);
    like($got[0] // '', qr/^welcome 0 \d+$/,
         'a process with the group among its supplementary groups too');

    ($ws, $m) = ws_join($room->{code}, name => 'Host again',
                        host_key => $room->{host_key});
    is($m && $m->{type}, 'welcome', 'joins through nginx still work');
    close $ws if $ws;
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

=== TEST 1: only the nginx workers' user gets a ring slot
--- request
GET /
--- error_code: 200
--- timeout: 60
--- no_error_log
[error]
[alert]
[crit]
