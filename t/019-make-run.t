# `make run` (scripts/run.sh) as it is: its nginx and media worker start,
# room creation is limited per address with the API's JSON 429, and the
# control socket is the nginx workers' alone.  Runs run.sh on free ports
# in a temporary RUN_DIR.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $top = abs_path(dirname(__FILE__) . '/..');

plan(skip_all => 'run make first')
    unless -x "$top/build/rooms-worker" && -f "$top/build/ngx_rooms_module.so";

sub free_port {
    my ($proto) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => $proto,
                                  $proto eq 'tcp' ? (Listen => 1) : ())
        or die "$proto: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

my $dir = tempdir('rooms-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $port = free_port('tcp');
# the media port: UDP, and TCP too (ICE-TCP listens on the same number)
my $media;
for (1 .. 50) {
    $media = free_port('udp');
    my $t = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $media,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1);
    last if $t;
}

my $pid = fork // die "fork: $!";
if ($pid == 0) {
    open STDOUT, '>', "$dir.out" or POSIX::_exit(127);
    open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
    $ENV{RUN_DIR} = $dir;
    $ENV{PORT} = $port;
    $ENV{MEDIA_PORT} = $media;
    exec('sh', "$top/scripts/run.sh") or POSIX::_exit(127);
}

END {
    if ($pid) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
        unlink "$dir.out";
    }
}

sub request {
    my ($method, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
        or return (0, "");
    $body //= '';
    print $s "$method $path HTTP/1.0\r\nHost: localhost\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n$body";
    local $/;
    my $resp = <$s> // '';
    close $s;
    my ($status) = $resp =~ m{^HTTP/1\.\d (\d+)};
    my ($rbody) = $resp =~ /\r\n\r\n(.*)$/s;
    return ($status // 0, $rbody // '');
}

my $deadline = time + 15;
my ($st) = (0);
while (time < $deadline) {
    ($st) = request('GET', '/');
    last if $st == 200;
    sleep 0.1;
}
is($st, 200, 'make run serves its page') or diag(`cat $dir.out`);

# No MEDIA_IP: the worker announces the machine's addresses, loopback
# left out (browsers refuse it without a test flag), with UDP and TCP.
{
    my $log = `cat $dir/logs/worker.log`;
    my @udp = $log =~ /announced: udp (\S+) port $media /g;
    my @tcp = $log =~ /announced: tcp (\S+) port $media /g;
    my @global = `ip -o addr show scope global up 2>/dev/null`
                 =~ /\binet6? ([0-9a-f.:]+)\//g;
    if (@global) {
        ok(@udp && !grep({ /^127\.|^::1$/ } @udp),
           "no loopback announced by default (@udp)") or diag($log);
        for my $ip (@global) {
            ok((grep { $_ eq $ip } @udp) && (grep { $_ eq $ip } @tcp),
               "$ip announced over UDP and TCP");
        }
    } else {
        ok(@udp, 'only loopback here: it is announced');
    }
    like(`cat $dir.out`, qr/announced at every address of this machine/,
         'run.sh says where media is announced');
}

my @got = map { (request('POST', '/api/rooms', '{"title":"x"}'))[0] } 1 .. 8;
is("@got", '201 201 201 201 201 201 429 429',
   'one creation and a burst of five per address, then 429');
my ($status, $body) = request('POST', '/api/rooms', '{}');
is($status, 429, 'still limited');
like($body, qr/^\{"error":\{"code":"too_many_requests","message":"[^"]+"\}\}\n$/,
     'in the API\'s JSON');
($status) = request('GET', '/api/rooms/AAAAAAAAAAAAAAAAAAAAAA');
is($status, 404, 'reads are not limited');

my @st = stat "$dir/worker.sock";
is(sprintf('%04o', ($st[2] // 0) & 07777), $> == 0 ? '0660' : '0600',
   'the control socket is not open to every user');
if ($> == 0) {
    is(scalar getpwuid($st[4] // -1), 'nobody',
       'it belongs to the nginx workers\' user (nobody)');
    my $log = `cat $dir/logs/worker.log`;
    like($log, qr/nginx worker connected: slot \d+ pid \d+ uid 65534/,
         'and the nginx workers are linked');
}

# The media worker dies: run.sh starts it again, nginx keeps serving, and
# its workers link to the new one.
{
    my $old = `pgrep -f '^[^ ]*/rooms-worker .*$dir/worker.sock'`;
    chomp $old;
    ok($old =~ /^\d+$/, "the media worker runs (pid $old)");
    kill 'KILL', $old if $old =~ /^\d+$/;

    my ($new, $linked) = ('', 0);
    my $until = time + 20;
    while (time < $until) {
        $new = `pgrep -f '^[^ ]*/rooms-worker .*$dir/worker.sock'`;
        chomp $new;
        my $log = `cat $dir/logs/worker.log`;
        my ($after) = $log =~ /run\.sh: the media worker stopped.*\z/s
                      ? ($log =~ /(run\.sh: the media worker stopped(?:(?!run\.sh:).)*)\z/s)
                      : ('');
        $linked = ($after // '') =~ /nginx worker connected/;
        last if $new =~ /^\d+$/ && $new ne $old && $linked;
        sleep 0.2;
    }
    ok($new =~ /^\d+$/ && $new ne $old,
       "a killed media worker is started again (pid $new)");
    ok($linked, 'and the nginx workers link to the new one');
    my ($st2) = request('GET', '/');
    is($st2, 200, 'nginx kept serving');
}

done_testing();
