#!/usr/bin/perl
# Browser end-to-end: who you see and hear (tests/e2e/view.mjs, which
# prints the TAP).  Four headless Chromiums, one video slot each
# (rooms_video_slots 1), through the real nginx and the real media
# worker.  Scenario.pm runs it in a network namespace with only `lo`,
# enforces the hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('view.mjs', 180);   # its own deadline is 150 s
