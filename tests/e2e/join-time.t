#!/usr/bin/perl
# Browser end-to-end: a join, phase by phase (tests/e2e/join-time.mjs,
# which prints the TAP).  Three headless Chromiums join one room one after
# another; every phase of the last join is logged, in order, by the page
# and by the media worker, and everyone decodes everyone's video.  Timing
# is never asserted: `make jointime` measures it (docs/join-time.md).

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('join-time.mjs', 150);   # its own deadline is 120 s
