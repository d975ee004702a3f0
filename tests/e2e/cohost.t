#!/usr/bin/perl
# Browser end-to-end: co-hosts and the host-absent policy
# (tests/e2e/cohost.mjs, which prints the TAP): a host and two guests in
# headless Chromiums through the real nginx (2 workers) and the real
# media worker; "Make co-host" and "Remove co-host", the co-host's
# controls (Lock room, no End room), the co-host key kept across a
# reload, "When the host leaves" on the create page and in the room,
# the room locking or ending itself when the host leaves; English and
# Italian; phone and desktop screens.  Scenario.pm runs it in a network
# namespace with only `lo`, enforces the hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('cohost.mjs', 200);   # its own deadline is 170 s
