#!/usr/bin/perl
# Browser end-to-end: three nodes (nginx with the module and its media
# worker, each in a network namespace of its own) behind a stock front
# nginx (docs/front.conf), one store; the node with a call is drained and
# the call comes back on another node by itself (tests/e2e/nodes.mjs,
# which prints the TAP; docs/scaling.md).  Two headless Chromiums.
# Scenario.pm runs it in a network namespace with only `lo` (the
# scenario adds the nodes' namespaces and the bridge), enforces the hard
# deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('nodes.mjs', 140, { need => [qw(nsenter sysctl)] });   # its own deadline is 110 s
