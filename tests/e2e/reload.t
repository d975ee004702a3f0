#!/usr/bin/perl
# Browser end-to-end: a call survives three nginx reloads
# (tests/e2e/reload.mjs, which prints the TAP).  Three headless Chromiums
# through the real nginx and the real media worker.  Scenario.pm runs it
# in a network namespace with only `lo`, enforces the hard deadline and
# cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('reload.mjs', 180);   # its own deadline is 150 s
