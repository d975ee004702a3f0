#!/usr/bin/perl
# Browser end-to-end: who you hear, and who is speaking
# (tests/e2e/audio-slots.mjs, which prints the TAP).  Four headless
# Chromiums, one audio slot each (rooms_audio_slots 1), through the real
# nginx and the real media worker; two of them have a tone for a
# microphone.  Scenario.pm runs it in a network namespace with only
# `lo`, enforces the hard deadline and cleans up.

use strict;
use warnings;

use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

Scenario::run('audio-slots.mjs', 180);   # its own deadline is 150 s
