#!/usr/bin/perl
# Browser end-to-end: video that uses the link (tests/e2e/bandwidth.mjs,
# which prints the TAP).  Two headless Chromiums with 1280x720 cameras,
# through the real nginx and the real media worker, which sends transport
# feedback: the publisher's send rate passes 1 Mbit/s and the pinned
# video decodes at 1280 wide.  Scenario.pm runs it in a network namespace
# with only `lo`, enforces the hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('bandwidth.mjs', 150);   # its own deadline is 120 s
