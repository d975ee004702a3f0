#!/usr/bin/perl
# Browser end-to-end: host controls and the room people use
# (tests/e2e/host-controls.mjs, which prints the TAP): a host and guests
# in headless Chromiums through the real nginx (2 workers) and the real
# media worker; removing, muting, locking, ending; the grid from 1 to 50
# tiles; English and Italian; phone and desktop screens.  Scenario.pm
# runs it in a network namespace with only `lo`, enforces the hard
# deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('host-controls.mjs', 200);   # its own deadline is 170 s
