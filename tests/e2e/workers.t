#!/usr/bin/perl
# Browser end-to-end: rooms-worker --workers 2, a room on each media
# worker, one of them killed in the call (tests/e2e/workers.mjs, which
# prints the TAP).  Four headless Chromiums through the real nginx and
# the real media workers.  Scenario.pm runs it in a network namespace
# with only `lo`, enforces the hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('workers.mjs', 200);   # its own deadline is 170 s
