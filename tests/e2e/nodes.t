#!/usr/bin/perl
# Browser end-to-end: three nodes (nginx with the module and its media
# worker, each in a network namespace of its own) behind a stock front
# nginx (docs/front.conf), one PostgreSQL they share; the node with a
# call is drained and the call comes back on another node by itself
# (tests/e2e/nodes.mjs, which prints the TAP; docs/scaling.md).  Two
# headless Chromiums.  The PostgreSQL is a throwaway cluster
# (scripts/pg-cluster.sh: run, then fresh: a new database); without
# Debian's postgresql the suite is skipped, unless ROOMS_E2E_STORE=sqlite
# runs it on one SQLite file the nodes share.  Scenario.pm runs it in a
# network namespace with only `lo` (the scenario adds the nodes'
# namespaces and the bridge), enforces the hard deadline and cleans up.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

my $top = abs_path(dirname(__FILE__) . '/../..');

if (!$ENV{ROOMS_TEST_PG} && ($ENV{ROOMS_E2E_STORE} // '') ne 'sqlite') {
    my ($initdb) = sort glob '/usr/lib/postgresql/*/bin/initdb';
    if (!$initdb) {
        print "1..0 # SKIP PostgreSQL is not installed (scripts/deps.sh "
            . "installs Debian's postgresql; ROOMS_E2E_STORE=sqlite runs "
            . "the nodes on one SQLite file)\n";
        exit 0;
    }
    # a cluster for this run, and a fresh database in it
    exec 'sh', "$top/scripts/pg-cluster.sh", 'run',
         'sh', "$top/scripts/pg-cluster.sh", 'fresh', $^X, abs_path(__FILE__);
    die "exec: $!";
}

Scenario::run('nodes.mjs', 140, { need => [qw(nsenter sysctl)] });   # its own deadline is 110 s
