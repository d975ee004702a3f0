#!/usr/bin/perl
# Browser end-to-end: a weak link, then loss (tests/e2e/weak-link.mjs,
# which prints the TAP).  Three headless Chromiums reach the real media
# worker through the userspace impairment relay (tests/relay); the relay
# limits one downlink to 300 kbit/s, lifts it, then drops 5% both ways.
# Scenario.pm runs it in a network namespace with only `lo`, enforces the
# hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('weak-link.mjs', 260);   # its own deadline is 230 s
