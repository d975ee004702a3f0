#!/usr/bin/perl
# Browser end-to-end: the first call (tests/e2e/first-call.mjs, which
# prints the TAP).  Three headless Chromiums through the real nginx and
# the real media worker.  Scenario.pm runs it in a network namespace with
# only `lo`, enforces the hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('first-call.mjs', 150);   # its own deadline is 120 s
