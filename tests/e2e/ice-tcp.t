#!/usr/bin/perl
# Browser end-to-end: ICE over TCP (tests/e2e/ice-tcp.mjs, which prints
# the TAP): UDP to the media worker refused by nftables in the namespace
# (veth pair, Chromium without the loopback test flag), the call goes
# over the worker's passive TCP candidates.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('ice-tcp.mjs', 150, { veth => 1, need => ['nft'] });
