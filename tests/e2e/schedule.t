#!/usr/bin/perl
# Browser end-to-end: a scheduled room (tests/e2e/schedule.mjs, which
# prints the TAP): the countdown, "Remind me" and its notice before the
# start (on every page of that browser, and as a desktop notification),
# the host's count, and both pages joining by themselves at the start,
# through the real nginx (2 workers, rooms_reminder 15s) and the real
# media worker; English and Italian; a phone's screen.  Scenario.pm runs
# it in a network namespace with only `lo`, enforces the hard deadline
# and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('schedule.mjs', 180);   # its own deadline is 150 s
