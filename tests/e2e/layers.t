#!/usr/bin/perl
# Browser end-to-end: each tile the simulcast layer its size asks for
# (tests/e2e/layers.mjs, which prints the TAP).  Four headless Chromiums
# through the real nginx and the real media worker; one pins another, whose
# video then decodes wide while the strip's tiles decode small.  Scenario.pm
# runs it in a network namespace with only `lo`, enforces the hard
# deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('layers.mjs', 200);   # its own deadline is 170 s
