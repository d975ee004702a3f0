package RoomsServer;

# A whole nginx with the module, master and two workers, as an admin runs
# it, for the fault suites (t/021-store-faults.t, t/022-process-faults.t):
# they kill, stall and starve its processes, so they start it themselves
# rather than through Test::Nginx's blocks.  Its folder, port and store
# are the caller's; HTTP goes through RoomsTest::http() with port =>.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);

use RoomsTest;
use RoomsStore;

our @EXPORT = qw(free_port nginx_conf nginx_test nginx_start nginx_stop
                 nginx_workers wait_for log_alerts);

my $top = abs_path(dirname(__FILE__) . '/../..');
my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my %Master;          # folder => master pid

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1) or die "tcp: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# Writes $dir/nginx.conf: the store at $opt{store} (default the suite's
# store for $dir: RoomsStore::store_of), the media socket when $opt{socket} is given, more lines
# of the http block in $opt{http}, $opt{workers} nginx workers (default 2).
sub nginx_conf {
    my ($dir, $port, %opt) = @_;
    my $module = $ENV{TEST_NGINX_ROOMS_MODULE} || "$top/build/ngx_rooms_module.so";
    my $store = $opt{store} // store_of($dir);
    my $user = $> == 0 ? 'user nobody nogroup;' : '';
    my $media = $opt{socket} ? "rooms_media_socket $opt{socket};" : '';
    my $http = $opt{http} // '';
    my $workers = $opt{workers} // 2;
    open my $f, '>', "$dir/nginx.conf" or die "$dir/nginx.conf: $!";
    print $f <<CONF;
load_module $module;
$user
worker_processes $workers;
daemon off;
master_process on;
error_log $dir/error.log info;
pid $dir/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir;
    rooms_zone  rooms:1m;
    rooms_store $store;
    $media
    $http
    server {
        # reuseport: the kernel spreads connections over both workers
        listen 127.0.0.1:$port reuseport;
        location / { rooms; }
    }
}
CONF
    close $f;
}

# "nginx -t" of $dir/nginx.conf: (exit status, what it printed)
sub nginx_test {
    my ($dir) = @_;
    my $out = `$nginx -t -p $dir -c $dir/nginx.conf -e $dir/error.log 2>&1`;
    # a crash is no pass: 128 + the signal
    return ($? & 127 ? 128 + ($? & 127) : $? >> 8, $out);
}

# Starts nginx in the foreground of a child and waits until it answers
# on $port; returns the master's pid, or undef (with the log's tail).
sub nginx_start {
    my ($dir, $port) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$dir/nginx.out" or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec($nginx, '-p', $dir, '-c', "$dir/nginx.conf", '-e',
             "$dir/error.log") or POSIX::_exit(127);
    }
    $Master{$dir} = $pid;
    my $ok = wait_for(10, sub {
        return 0 if waitpid($pid, POSIX::WNOHANG()) == $pid;
        my ($st) = RoomsTest::http('GET', '/', port => $port);
        return $st == 200;
    });
    return $ok ? $pid : undef;
}

sub nginx_stop {
    my ($dir) = @_;
    my $pid = delete $Master{$dir} or return;
    kill 'QUIT', $pid;
    my $until = time + 10;
    while (time < $until) {
        return if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
}

# The pids of the master's workers (processes whose parent it is).
sub nginx_workers {
    my ($master) = @_;
    my @w = split ' ', `pgrep -P $master` // '';
    return grep { /^\d+$/ } @w;
}

# Calls $check every 50 ms until it is true or $secs passed: its value.
# The [alert], [crit] and [emerg] lines of $dir/error.log that match none
# of the patterns given (what the suite caused on purpose): a suite ends
# by asserting there are none, as Test::Nginx does for its blocks.
sub log_alerts {
    my ($dir, @expected) = @_;
    open my $fh, '<', "$dir/error.log" or return ();
    my @bad;
    while (my $line = <$fh>) {
        next unless $line =~ /\[(?:alert|crit|emerg)\]/;
        push @bad, $line unless grep { $line =~ $_ } @expected;
    }
    return @bad;
}

sub wait_for {
    my ($secs, $check) = @_;
    my $until = time + $secs;
    for (;;) {
        my $v = $check->();
        return $v if $v || time >= $until;
        sleep 0.05;
    }
}

END {
    nginx_stop($_) for keys %Master;
}

1;
