#!/usr/bin/perl
# Browser end-to-end: a node added behind the front (docs/front.conf)
# takes its share of rooms, and a call running on a moved room's old
# node moves to it by itself (tests/e2e/nodes-add.mjs, which prints the
# TAP; docs/scaling.md, "Adding a node").  Three nodes, each in a
# network namespace of its own, one PostgreSQL they share (presence, by
# which a node learns that the room's call runs elsewhere too, goes
# through it), three headless Chromiums.  The PostgreSQL is a throwaway
# cluster (scripts/pg-cluster.sh: run, then fresh: a new database);
# without Debian's postgresql the suite is skipped.  Scenario.pm runs it
# in a network namespace with only `lo`, enforces the hard deadline and
# cleans up.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

my $top = abs_path(dirname(__FILE__) . '/../..');

if (!$ENV{ROOMS_TEST_PG}) {
    my ($initdb) = sort glob '/usr/lib/postgresql/*/bin/initdb';
    if (!$initdb) {
        print "1..0 # SKIP PostgreSQL is not installed (scripts/deps.sh "
            . "installs Debian's postgresql): presence across nodes needs "
            . "it\n";
        exit 0;
    }
    # a cluster for this run, and a fresh database in it
    exec 'sh', "$top/scripts/pg-cluster.sh", 'run',
         'sh', "$top/scripts/pg-cluster.sh", 'fresh', $^X, abs_path(__FILE__);
    die "exec: $!";
}

Scenario::run('nodes-add.mjs', 140, { need => [qw(nsenter sysctl)] });   # its own deadline is 110 s
