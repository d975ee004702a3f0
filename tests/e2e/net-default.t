#!/usr/bin/perl
# Browser end-to-end: `make run`'s defaults reached by everyday browsers
# (tests/e2e/net-default.mjs, which prints the TAP): a namespace with a
# veth pair besides `lo`, Chromium without the loopback test flag.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('net-default.mjs', 150, { veth => 1 });   # its own: 120 s
