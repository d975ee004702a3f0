# Changes made on two nodes that share one store (docs/scaling.md), one
# after the other, as hosts meet them when the front sends their requests
# to different nodes: two whole nginx (t/lib/RoomsServer.pm), each with
# its own shared zone, on one store.  Node B has the room cached (a read
# a moment before) when node A changes it; then a change on B:
#
# - a host locks the room on A, then renames it on B: the room is locked
#   AND renamed (B's change starts from the stored record, never from
#   its cached copy, which misses the lock);
# - a host replaces the invite link on A: the old link changes nothing on
#   B (410 gone), though B's cache still knew it as the room's;
# - a host ends the room on A: B refuses a change (409 room_ended).
#
# The store's write lock, not a node's shared-zone mutex, is what orders
# changes (ngx_rooms_directory.h): this suite holds for two nginx worker
# processes of one node as for two nodes.  Each assertion holds whatever
# the timing; a change made to a cached copy fails them whenever that
# copy is still in use (NGX_ROOMS_FRESH_MS, 1 s), as here.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);

use RoomsTest;
use RoomsServer;
use RoomsStore;

my $top = tempdir('rooms-nodes-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $top;
my ($da, $db) = ("$top/a", "$top/b");
for ($da, $db) { mkdir $_; chmod 0777, $_ }

my $pa = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $pb = free_port();
my $store = store_of($da);

nginx_conf($da, $pa, store => $store);
nginx_conf($db, $pb, store => $store);
ok(nginx_start($da, $pa), 'node A runs') or BAIL_OUT(`tail -5 $da/error.log`);
ok(nginx_start($db, $pb), 'node B runs on the same store')
    or BAIL_OUT(`tail -5 $db/error.log`);

sub on {
    my ($port, $method, $path, %opt) = @_;
    return RoomsTest::http($method, $path, port => $port, %opt);
}

sub title_of {
    my ($port, $code) = @_;
    my ($st, undef, $r) = on($port, 'GET', "/api/rooms/$code");
    return $st == 200 && ref $r
           ? "$st $r->{title} " . ($r->{locked} ? 'locked' : 'open') : $st;
}

# ---- a lock on A, then a rename on B ----

my ($st, undef, $room) = on($pa, 'POST', '/api/rooms',
                            json => { title => 'Before' });
is($st, 201, 'a room is created on A');
my ($code, $key) = @{$room}{qw(code host_key)};

is(title_of($pb, $code), '200 Before open', 'B reads it (and caches it)');

($st) = on($pa, 'PATCH', "/api/rooms/$code", key => $key,
           json => { locked => \1 });
is($st, 200, 'the host locks it on A');

my $r;
($st, undef, $r) = on($pb, 'PATCH', "/api/rooms/$code", key => $key,
                      json => { title => 'After' });
is($st, 200, 'the host renames it on B');
ok(ref $r && $r->{locked} && $r->{title} eq 'After',
   "B's answer has the rename and A's lock");

is(title_of($pb, $code), '200 After locked', 'B serves both');
is(store_query($store, "SELECT title || ' ' || locked FROM rooms "
                       . "WHERE code = '$code'") =~ s/\s+$//r,
   'After 1', 'the store has both: the lock was not undone');
ok(wait_for(5, sub { title_of($pa, $code) eq '200 After locked' }),
   'and A serves both (once its copy is read again)');

# ---- a new invite link on A: the old one changes nothing on B ----

is(title_of($pb, $code), '200 After locked', 'B reads the room again');

($st, undef, $r) = on($pa, 'POST', "/api/rooms/$code/invite", key => $key);
is($st, 200, 'the host replaces the invite link on A');
my $new = ref $r ? $r->{code} : '';

($st, undef, $r) = on($pb, 'PATCH', "/api/rooms/$code", key => $key,
                      json => { title => 'Old link' });
is($st, 410, 'a change through the old link on B: 410');
is(ref $r ? $r->{error}{code} : '', 'gone', '... gone');
is(title_of($pb, $code), 410, 'and B says the old link is gone from now on');
is(title_of($pb, $new), '200 After locked',
   'the room, by its new link, is unchanged');

# ---- an end on A: B refuses a change ----

($st) = on($pa, 'DELETE', "/api/rooms/$new", key => $key);
is($st, 200, 'the host ends the room on A');

($st, undef, $r) = on($pb, 'PATCH', "/api/rooms/$new", key => $key,
                      json => { locked => \0 });
is($st, 409, 'a change on B after the end: 409');
is(ref $r ? $r->{error}{code} : '', 'room_ended', '... room_ended');
is(store_query($store, "SELECT locked || ' ' || CASE WHEN ended_at > 0 "
                       . "THEN 'ended' ELSE 'open' END FROM rooms "
                       . "WHERE code = '$new'") =~ s/\s+$//r,
   '1 ended', 'the store has the room ended, still locked');

nginx_stop($da);
nginx_stop($db);

for ($da, $db) {
    is(join('', log_alerts($_)), '',
       "no alert, crit or emerg in $_/error.log");
}

done_testing();
