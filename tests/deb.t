#!/usr/bin/perl
# tests/deb.t: the Debian packages of `make deb` (build/deb/) on this
# machine's own nginx, as an admin installs them.
#
# - dpkg -i of libnginx-mod-rooms and rooms-worker: the module is enabled
#   (/etc/nginx/modules-enabled) and `nginx -t` passes with it loaded; it
#   depends on the nginx ABI this nginx provides.
# - systemd-analyze verify passes on the installed unit; its user exists.
# - The worker runs under the unit's command line, as systemd would run
#   it (this machine has no running systemd): ExecStart with the unit's
#   Environment= and EnvironmentFile=, as User=, Group= and
#   SupplementaryGroups=, NoNewPrivileges, in the RuntimeDirectory (made
#   as systemd makes it). Its control socket is the nginx group's (0660),
#   and a real nginx (the system binary, its own prefix, user www-data)
#   with the installed module links to it.
# - dpkg --purge of both: `nginx -t` still passes, /etc/nginx is exactly
#   as before, nothing of the packages is left.
#
# It touches the system (dpkg, /etc/nginx/modules-enabled, /run/ngx_rooms,
# a system user), so it takes /tmp/rooms-deb.lock, and puts everything
# back, in an END block too. Build first with `make deb`.

use strict;
use warnings;

use Cwd qw(abs_path);
use Fcntl qw(:flock);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $top = abs_path(dirname(__FILE__) . '/..');
chdir $top or die "chdir $top: $!";

plan(skip_all => 'needs root (dpkg -i)') if $> != 0;

chomp(my $ver = `dpkg-parsechangelog -l debian/changelog -S Version`);
chomp(my $arch = `dpkg --print-architecture`);
my %deb = map { $_ => "build/deb/${_}_${ver}_$arch.deb" }
              qw(libnginx-mod-rooms rooms-worker);

for (values %deb) {
    plan(skip_all => "$_ is missing: make deb first") unless -f $_;
}

open my $lock, '>', '/tmp/rooms-deb.lock' or die "lock: $!";
flock $lock, LOCK_EX or die "flock: $!";

my $unit = '/lib/systemd/system/rooms-worker.service';
my $rundir_made;
my $user_made;
my @kill;
my $tmp = tempdir('rooms-deb-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $tmp;

sub run {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub installed {
    my ($p) = @_;
    my $s = `dpkg-query -W -f='\${Status}' $p 2>/dev/null`;
    return $s =~ /installed|config-files|half/;
}

# dpkg waits for no one: another install (deps.sh) may hold its lock
sub dpkg {
    my ($args) = @_;
    my ($rc, $out);
    for (1 .. 60) {
        ($rc, $out) = run("DEBIAN_FRONTEND=noninteractive dpkg $args");
        last unless $rc && $out =~ /lock/i;
        sleep 1;
    }
    return ($rc, $out);
}

# /etc/nginx as a list of paths, types, link targets and contents
sub etc_nginx {
    my $s = `find /etc/nginx -printf '%p %y %m %l\\n' | sort`;
    $s .= `find /etc/nginx -type f -exec md5sum {} + | sort`;
    return $s;
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh>;
}

sub wait_for {
    my ($what, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) {
        return 1 if $what->();
        sleep 0.1;
    }
    return 0;
}

sub cleanup {
    for my $pid (@kill) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
    @kill = ();
    dpkg('--purge rooms-worker libnginx-mod-rooms')
        if installed('rooms-worker') || installed('libnginx-mod-rooms');
    system('rm', '-rf', '/run/ngx_rooms') if $rundir_made;
    $rundir_made = 0;
    # Debian keeps a package's system user after a purge; this test
    # leaves the machine as it found it
    system('userdel', '_rooms-worker') if $user_made && getpwnam('_rooms-worker');
    $user_made = 0;
}

END { my $rc = $?; cleanup(); $? = $rc; }

# a run that died half way left them installed: start from none
dpkg('--purge rooms-worker libnginx-mod-rooms')
    if installed('rooms-worker') || installed('libnginx-mod-rooms');

BAIL_OUT('/run/ngx_rooms exists: a media worker runs here already')
    if -e '/run/ngx_rooms';

my ($rc, $out) = run('nginx -t');
BAIL_OUT("the system's nginx -t fails before the test:\n$out") if $rc;

my $etc_before = etc_nginx();
$user_made = !getpwnam('_rooms-worker');

# ---- install ----

($rc, $out) = dpkg("-i $deb{'libnginx-mod-rooms'} $deb{'rooms-worker'}");
is($rc, 0, 'dpkg -i libnginx-mod-rooms rooms-worker') or diag($out);

my $abi = `dpkg-query -W -f='\${Provides}' nginx`;
my ($nginx_abi) = $abi =~ /(nginx-abi-[\w.-]+)/;
like(`dpkg-query -W -f='\${Depends}' libnginx-mod-rooms`,
     qr/(^|, )\Q$nginx_abi\E(,|$)/,
     "the module depends on the ABI of this nginx ($nginx_abi)");

my $enabled = '/etc/nginx/modules-enabled/50-mod-rooms.conf';
is(readlink($enabled), '/usr/share/nginx/modules-available/mod-rooms.conf',
   'the module is enabled');
like(slurp($enabled), qr{^load_module modules/ngx_rooms_module\.so;$}m,
     'its snippet loads ngx_rooms_module.so');

($rc, $out) = run('nginx -t');
is($rc, 0, 'nginx -t passes with the module loaded') or diag($out);
($rc, $out) = run('nginx -T');
like($out, qr{configuration file \Q$enabled\E:\nload_module modules/ngx_rooms_module\.so;},
     'nginx -T read the module snippet');

($rc, $out) = run("systemd-analyze verify $unit");
is($rc, 0, 'systemd-analyze verify passes on the installed unit')
    or diag($out);
unlike($out, qr/rooms-worker/, 'and says nothing about it') or diag($out);

my @pw = getpwnam('_rooms-worker');
ok(@pw && $pw[2] < 1000 && $pw[7] eq '/nonexistent',
   'the package made the system user _rooms-worker');

# ---- the unit's command line ----

# the unit, read as systemd reads it (one line per setting, here)
my %u;
for (split /\n/, slurp($unit)) {
    next if /^\s*(#|;|\[|$)/;
    my ($k, $v) = /^(\w+)=(.*)$/ or next;
    $u{$k} = defined $u{$k} ? "$u{$k} $v" : $v;
}
ok($u{ExecStart} && $u{User} && $u{RuntimeDirectory}, 'the unit parses');
is($u{Restart}, 'on-failure', 'Restart=on-failure');
is($u{NoNewPrivileges}, 'yes', 'NoNewPrivileges=yes');
is($u{ProtectSystem}, 'strict', 'ProtectSystem=strict');
like($u{Before} // '', qr/\bnginx\.service\b/, 'nginx is ordered after it');

my %env = map { /^(\w+)=(.*)$/ } split ' ', $u{Environment} // '';
(my $envfile = $u{EnvironmentFile} // '') =~ s/^-//;
for (split /\n/, slurp($envfile)) {
    $env{$1} = $2 if /^\s*(\w+)=(.*)$/;
}
ok($env{ROOMS_UDP_PORT}, "its settings: the unit's and $envfile");

# a free UDP port for this run (40000 may be another test's)
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                              Proto => 'udp') or die "udp: $!";
$env{ROOMS_UDP_PORT} = $s->sockport;
close $s;

# systemd's expansion: ${VAR} is one word, $VAR is split at spaces (and
# none when empty)
(my $cmd = $u{ExecStart}) =~ s/\$\{(\w+)\}/$env{$1} \/\/ die "unset $1"/ge;
$cmd =~ s/\$(\w+)/$env{$1} \/\/ die "unset $1"/ge;
my @argv = split ' ', $cmd;
my ($sock) = $cmd =~ /--control (\S+)/;
is(dirname($sock), "/run/$u{RuntimeDirectory}",
   'the control socket is in the RuntimeDirectory');

# RuntimeDirectory=, as systemd makes it: owned by User= and Group=
my $gid = getgrnam($u{Group}) // die "no group $u{Group}";
mkdir "/run/$u{RuntimeDirectory}" or die "mkdir: $!";
$rundir_made = 1;
chown $pw[2], $gid, "/run/$u{RuntimeDirectory}";
chmod oct($u{RuntimeDirectoryMode} // '0755'), "/run/$u{RuntimeDirectory}";

my $wlog = "$tmp/worker.log";
my $wpid = fork // die "fork: $!";
if ($wpid == 0) {
    open STDOUT, '>', $wlog or POSIX::_exit(127);
    open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
    { exec 'setpriv', "--reuid=$u{User}", "--regid=$u{Group}",
         "--groups=" . join(',', split ' ', $u{SupplementaryGroups} // ''),
         '--no-new-privs', '--', @argv; }
    POSIX::_exit(127);
}
push @kill, $wpid;

ok(wait_for(sub { -S $sock }, 10), 'the worker runs and listens')
    or diag(slurp($wlog));
my @st = stat $sock;
my $www = getgrnam('www-data');
ok(@st && $st[4] == $pw[2] && $st[5] == $www && ($st[2] & 07777) == 0660,
   'its socket: _rooms-worker, group www-data, 0660')
    or diag(sprintf 'uid %d gid %d mode %o', $st[4], $st[5], $st[2] & 07777);
like(slurp("/proc/$wpid/status"), qr/^NoNewPrivs:\s*1$/m, 'with NoNewPrivs');

# the installed module, in a real nginx of its own, links to it
my $t = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                              Proto => 'tcp', Listen => 1) or die "tcp: $!";
my $port = $t->sockport;
close $t;
mkdir "$tmp/$_" for qw(logs conf store);
chown scalar(getpwnam('www-data')), $www, "$tmp/store";
open my $fh, '>', "$tmp/conf/nginx.conf" or die;
print $fh <<"CONF";
load_module /usr/lib/nginx/modules/ngx_rooms_module.so;
user www-data;
worker_processes 1;
daemon off;
master_process on;
pid $tmp/logs/nginx.pid;
error_log $tmp/logs/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    rooms_zone rooms:1m;
    rooms_store $tmp/store/rooms.db;
    rooms_media_socket $sock;
    server {
        listen 127.0.0.1:$port;
        location / { rooms; }
        location = /metrics { rooms_metrics; }
    }
}
CONF
close $fh;

my $npid = fork // die "fork: $!";
if ($npid == 0) {
    open STDERR, '>>', "$tmp/logs/error.log";
    { exec 'nginx', '-p', "$tmp/", '-c', "$tmp/conf/nginx.conf"; }
    POSIX::_exit(127);
}
push @kill, $npid;

my $www_uid = getpwnam('www-data');
ok(wait_for(sub { slurp($wlog) =~ /nginx worker connected: slot \d+ pid \d+ uid $www_uid\b/ }, 10),
   "an nginx worker (www-data) linked to it")
    or diag(slurp($wlog), slurp("$tmp/logs/error.log"));

($rc, $out) = run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/");
is($out, '200', 'that nginx serves the create page');
($rc, $out) = run("curl -s http://127.0.0.1:$port/metrics");
like($out, qr/^# TYPE rooms_joins_total counter$/m, 'and its metrics');

kill 'QUIT', $npid;
waitpid $npid, 0;
kill 'TERM', $wpid;
waitpid $wpid, 0;
is($?, 0, 'SIGTERM stops the worker cleanly') or diag(slurp($wlog));
@kill = ();

# ---- purge ----

($rc, $out) = dpkg('--purge rooms-worker libnginx-mod-rooms');
is($rc, 0, 'dpkg --purge rooms-worker libnginx-mod-rooms') or diag($out);
ok(!installed('rooms-worker') && !installed('libnginx-mod-rooms'),
   'both are gone');
ok(!-e '/usr/lib/nginx/modules/ngx_rooms_module.so' && !-e $unit
   && !-e '/etc/default/rooms-worker', 'with their files');

($rc, $out) = run('nginx -t');
is($rc, 0, 'nginx -t still passes') or diag($out);
is(etc_nginx(), $etc_before, '/etc/nginx is exactly as before');

cleanup();
ok(!-e '/run/ngx_rooms', 'nothing left in /run');

done_testing();
