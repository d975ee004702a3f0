#!/usr/bin/perl
# Browser end-to-end: screen sharing (tests/e2e/share.mjs, which prints
# the TAP).  Three headless Chromiums (their fake screen capture stands in
# for a screen), through the real nginx and the real media worker.
# Scenario.pm runs it in a network namespace with only `lo`, enforces the
# hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('share.mjs', 180);   # its own deadline is 150 s
