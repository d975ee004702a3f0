#!/usr/bin/perl
# Browser end-to-end: the lobby of a room with admission "knock"
# (tests/e2e/lobby.mjs, which prints the TAP): the create page makes the
# room; guests wait with no media until the host, in headless Chromium
# through the real nginx (2 workers) and the real media worker, admits
# or denies them; English and Italian; phone and desktop screens.
# Scenario.pm runs it in a network namespace with only `lo`, enforces
# the hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('lobby.mjs', 190);   # its own deadline is 160 s
