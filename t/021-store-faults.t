# The store in trouble, as an admin meets it (issue 11, items 4 and 7):
#
# - locked: another program holds SQLite's write lock (the sqlite3 shell
#   in a BEGIN EXCLUSIVE, kept open).  The page and room reads keep
#   answering, while clients create rooms all along; a write is refused
#   at once with 503 storage_busy and Retry-After, and changes nothing;
#   once the lock is gone writes work, and after a restart the store has
#   exactly what was answered 201 or 200.
# - (root) a store whose folder the worker user cannot write fails
#   "nginx -t" (root itself can, so it passed before, and then every
#   worker failed to open it);
# - (root, in a private mount namespace, on a small tmpfs) read-only: a
#   store on a read-only mount, or a read-only file in a writable folder,
#   fails "nginx -t" with a line that says so (it passed before: reads
#   work, and root opens anything);
# - a full disk at start-up fails "nginx -t" naming the file and the
#   cause, not only "disk I/O error";
# - a full disk while serving: writes answer 503 storage_unavailable,
#   reads answer as before, nothing stored is lost, and once there is
#   space again writes work.
#
# nginx runs whole (master, two workers) through t/lib/RoomsServer.pm.
# These are SQLite's own faults (a file's lock, mounts, a disk): the
# suite runs on SQLite only; PostgreSQL's own (the database down at
# start, killed while serving) are t/041-pg-faults.t's.

use strict;
use warnings;

use lib 't/lib';

BEGIN {
    # the mounts below must stay private to this test
    if ($> == 0 && !$ENV{ROOMS_T_MOUNT_NS}
        && system('unshare -m --propagation private true 2>/dev/null') == 0)
    {
        $ENV{ROOMS_T_MOUNT_NS} = 1;
        $ENV{PERL5LIB} = join ':', grep { !ref } @INC;
        exec('unshare', '-m', '--propagation', 'private', $^X, $0, @ARGV);
    }
}

use Test::More;
use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(sleep time);

use RoomsTest;
use RoomsServer;
use RoomsStore;

plan(skip_all => "SQLite's own faults: `make test` runs them, "
               . 't/041-pg-faults.t has PostgreSQL\'s') if store_pg();

my $dir = tempdir('rooms-store-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $port = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $db = "$dir/rooms.db";

sub http { RoomsTest::http(@_, port => $port) }

sub sql {
    my ($file, $q) = @_;
    my $out = `sqlite3 '$file' "$q" 2>&1`;
    chomp $out;
    return $out;
}

# ---- a store locked by another program ----

nginx_conf($dir, $port);
my $master = nginx_start($dir, $port);
ok($master, 'nginx runs') or BAIL_OUT(`tail -5 $dir/error.log`);

my ($st, $h, $room) = http('POST', '/api/rooms',
                           json => { title => 'Kept', admission => 'knock' });
is($st, 201, 'a room is created');
my ($code, $key) = @{$room}{qw(code host_key)};
my $created = 1;

($st, $h, $room) = http('GET', "/api/rooms/$code");
is($st, 200, 'and read (cached now)');

# the lock: a write transaction of the sqlite3 shell, open until its
# input closes
POSIX::mkfifo("$dir/lock.sql", 0600) or die "mkfifo: $!";
my $locker = fork // die "fork: $!";
if ($locker == 0) {
    open STDIN, '<', "$dir/lock.sql" or POSIX::_exit(127);
    open STDOUT, '>', '/dev/null';
    exec('sqlite3', $db) or POSIX::_exit(127);
}
open my $lock, '>', "$dir/lock.sql" or die "fifo: $!";
$lock->autoflush(1);
# the program waits for a writer of the moment (a busy nginx) to finish
print $lock ".timeout 10000\nBEGIN EXCLUSIVE;\n"
    . "INSERT INTO retired_codes VALUES ('held-by-another-program', 0, 0);\n";

like(wait_for(5, sub {
         my $r = `sqlite3 -cmd '.timeout 0' '$db' 'BEGIN IMMEDIATE' 2>&1`;
         return $r =~ /locked/ ? $r : undef;
     }) // '', qr/database is locked/,
     'another program holds the write lock');

# clients create rooms all along, as a busy server's do
# (each it was answered 201 for is a line of $dir/created)
my $writer = fork // die "fork: $!";
if ($writer == 0) {
    close $lock;        # the lock ends when the parent closes its end
    my $stop = 0;
    $SIG{TERM} = sub { $stop = 1 };
    open my $log, '>', "$dir/created" or POSIX::_exit(1);
    $log->autoflush(1);
    my $until = time + 30;
    while (!$stop && time < $until) {
        my ($s, undef, $r) = RoomsTest::http('POST', '/api/rooms',
                                             json => {}, port => $port);
        print $log "$r->{code}\n" if $s == 201;
    }
    POSIX::_exit(0);
}

my ($reads, $slowest) = (0, 0);
for (1 .. 20) {
    my $t0 = time;
    my ($s1) = http('GET', '/');
    my ($s2, undef, $r) = http('GET', "/api/rooms/$code");
    my $t = time - $t0;
    $slowest = $t if $t > $slowest;
    $reads++ if $s1 == 200 && $s2 == 200 && ref $r && $r->{title} eq 'Kept';
}
is($reads, 20, 'while it is locked and rooms are being created, the page '
   . 'and a room answer every time');
note(sprintf 'the slowest page + room read took %.0f ms', $slowest * 1000);

($st, $h, $room) = http('POST', '/api/rooms', json => { title => 'New' });
is($st, 503, 'a creation is refused');
is(ref $room && $room->{error}{code}, 'storage_busy', '... storage_busy');
is($h->{'retry-after'}, '1', '... with Retry-After: 1');

($st, $h, $room) = http('PATCH', "/api/rooms/$code", key => $key,
                        json => { title => 'Lost?' });
is($st, 503, 'a host\'s change is refused');
is(ref $room && $room->{error}{code}, 'storage_busy', '... storage_busy');
($st, $h, $room) = http('GET', "/api/rooms/$code");
is($room->{title}, 'Kept', 'and changed nothing');

close $lock;
waitpid $locker, 0;
# the writer goes on a moment after the lock is gone
sleep 0.3;
kill 'TERM', $writer;
waitpid $writer, 0;
my @by_writer = split /\n/, `cat $dir/created`;
ok(@by_writer > 0, 'the writer\'s creations succeed again ('
   . scalar(@by_writer) . ')');

($st, $h, $room) = http('PATCH', "/api/rooms/$code", key => $key,
                        json => { title => 'Changed', locked => JSON::PP::true });
is($st, 200, 'once the lock is gone, the change is made');
($st, $h, $room) = http('POST', '/api/rooms', json => { title => 'After' });
is($st, 201, 'and rooms are created');

like(`cat $dir/error.log`, qr/rooms_store is locked by another process/,
     'the error log says why writes were refused');

# every room the writer was answered 201 for is in the store: count the
# ones the store has against the ones nginx said it created
nginx_stop($dir);
my $stored = sql($db, 'SELECT count(*) FROM rooms');
my $retired = sql($db, "SELECT count(*) FROM retired_codes");
is($retired, 0, 'the other program\'s rolled back write left nothing');
is($stored, 2 + @by_writer, 'the store holds every room answered 201, '
   . 'and no other');
$master = nginx_start($dir, $port);
($st, $h, $room) = http('GET', "/api/rooms/$code");
ok($st == 200 && $room->{title} eq 'Changed' && $room->{locked},
   'after a restart the room has its last change');
nginx_stop($dir);

# ---- a folder only root can write (root passes any permission check) ----

SKIP: {
    skip 'root only', 3 unless $> == 0;

    my $folder = "$dir/roots";
    mkdir $folder;
    chmod 0755, $folder;
    nginx_conf($dir, $port, store => "$folder/rooms.db");
    my ($rc, $out) = nginx_test($dir);
    isnt($rc, 0, 'a store in a folder the worker user cannot write fails '
         . 'nginx -t as root');
    like($out, qr/rooms_store "\Q$folder\E\/rooms.db" cannot be written by the worker user "nobody": its folder "\Q$folder\E" \(mode 0755/,
         '... naming the folder, its mode and the user');
    chmod 0777, $folder;
    ($rc, $out) = nginx_test($dir);
    is($rc, 0, 'and passes once that user can write it') or diag($out);
}

# ---- read-only and full file systems (root only) ----

SKIP: {
    skip 'mounts need root and a private mount namespace', 15
        unless $> == 0 && $ENV{ROOMS_T_MOUNT_NS};

    my $disk = "$dir/disk";
    mkdir $disk;
    system('mount', '-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', $disk) == 0
        or skip 'no tmpfs', 15;
    chmod 0777, $disk;
    my $ddb = "$disk/rooms.db";
    nginx_conf($dir, $port, store => $ddb);

    my ($rc, $out) = nginx_test($dir);
    is($rc, 0, 'a store on the tmpfs passes nginx -t') or diag($out);

    # the file alone read-only (a read-only bind mount): root still opens
    # it, and reads work
    system('mount', '--bind', '-o', 'ro', $ddb, $ddb);
    ($rc, $out) = nginx_test($dir);
    isnt($rc, 0, 'a read-only store file fails nginx -t');
    like($out, qr/rooms_store "\Q$ddb\E" cannot be written: .*can only be read/,
         '... saying it can only be read');
    system('umount', $ddb);

    system('mount', '-o', 'remount,ro', $disk);
    ($rc, $out) = nginx_test($dir);
    isnt($rc, 0, 'a store on a read-only file system fails nginx -t');
    like($out, qr/Read-only file system/, '... saying so');
    system('mount', '-o', 'remount,rw', $disk);

    # a full disk at start-up
    system("dd if=/dev/zero of=$disk/fill bs=4k 2>/dev/null");
    ($rc, $out) = nginx_test($dir);
    isnt($rc, 0, 'a full disk fails nginx -t');
    like($out, qr/"\Q$ddb\E[^"]*".*No space left on device: the file system is full/,
         '... naming the file and the cause');
    unlink "$disk/fill";

    # a full disk while serving
    $master = nginx_start($dir, $port);
    ok($master, 'nginx runs on the tmpfs store')
        or diag(`tail -5 $dir/error.log`);
    ($st, $h, $room) = http('POST', '/api/rooms', json => { title => 'Before' });
    is($st, 201, 'a room is created');
    my ($c2, $k2) = @{$room}{qw(code host_key)};

    system("dd if=/dev/zero of=$disk/fill bs=4k 2>/dev/null");
    my @refused;
    ($st, $h, $room) = http('POST', '/api/rooms', json => { title => 'Full' });
    push @refused, "$st " . (ref $room ? $room->{error}{code} : '');
    ($st, $h, $room) = http('PATCH', "/api/rooms/$c2", key => $k2,
                            json => { title => 'Full' });
    push @refused, "$st " . (ref $room ? $room->{error}{code} : '');
    is("@refused", '503 storage_unavailable 503 storage_unavailable',
       'on a full disk, a creation and a change answer 503 '
       . 'storage_unavailable');
    ($st, $h, $room) = http('GET', "/api/rooms/$c2");
    ok($st == 200 && $room->{title} eq 'Before', 'reads answer as before');
    like(`cat $dir/error.log`, qr/database or disk is full/,
         'the error log says the disk is full');

    unlink "$disk/fill";
    ($st, $h, $room) = http('PATCH', "/api/rooms/$c2", key => $k2,
                            json => { title => 'After' });
    is($st, 200, 'with space again, the change is made');
    ($st, $h, $room) = http('POST', '/api/rooms', json => {});
    is($st, 201, 'and rooms are created');
    nginx_stop($dir);
    is(sql($ddb, "SELECT group_concat(title, ',') FROM rooms ORDER BY id"),
       'After,', 'the store has both rooms, the first with its change');

    system('umount', $disk);
}

# the [emerg] lines are the nginx -t refusals this suite provokes
my @alerts = log_alerts($dir,
    qr/\[emerg\] .*rooms_store ".*" cannot be written( by the worker user)?/);
is(join('', @alerts), '', 'no unexpected alert, crit or emerg in the error log');

done_testing();
