#!/usr/bin/perl
# Browser end-to-end: `make run`'s defaults reached by everyday browsers
# (tests/e2e/net-default.mjs, which prints the TAP): a namespace with a
# veth pair besides `lo`, Chromium without the loopback test flag (and
# nftables to refuse IPv6 media for a second call, over IPv4).

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('net-default.mjs', 150, { veth => 1, need => ['nft'] });
                                                # its own deadline: 120 s
