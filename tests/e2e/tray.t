#!/usr/bin/perl
# Browser end-to-end: the tray (tests/e2e/tray.mjs, which
# prints the TAP).  Headless Chromiums through the real nginx and
# the real media worker.  Scenario.pm runs it in a network namespace with
# only `lo`, enforces the hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('tray.mjs', 200);   # its own deadline is 170 s
