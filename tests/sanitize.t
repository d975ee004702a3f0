#!/usr/bin/perl
# tests/sanitize.t: what `make test` runs under AddressSanitizer and
# UndefinedBehaviorSanitizer besides the unit tests (prove runs
# build/asan/tests/test_* itself, next to this file).  Build first with
# `make sanitize-build`; `make sanitize` runs both.
#
# - Every fuzz target of tests/fuzz/ (libFuzzer, built with both
#   sanitizers) for SANITIZE_FUZZ_SECONDS (5) on a fresh copy of its seed
#   corpus (tests/fuzz/corpus/<target>/, when it has one): ok when it
#   exits 0 having reported nothing.  Its executions are noted.
# - The media worker built with both (build/asan/rooms-worker) under
#   three suites that run the real worker, t/010-host-ws.t,
#   t/011-lobby.t and t/020-ring-overflow.t (a full ring and its
#   resync): ok when the suite passes and the worker wrote no
#   sanitizer report (each suite stops it with SIGTERM, so LeakSanitizer
#   checks what sfu_destroy() and the rest left at exit).
# - The nginx module built with both (build/asan/ngx_rooms_module.so),
#   loaded into Debian's nginx with the two runtimes preloaded (a wrapper
#   script as TEST_NGINX_BINARY), under t/002-create-read.t,
#   t/003-host-actions.t, t/030-metrics.t (the counters' shared zone,
#   the WebSockets and the media worker's STATS records), t/032-identity.t,
#   t/033-policy.t (LuaJIT errors unwinding through the module, the
#   policy's allocator and memory cap), t/034-turn.t (the TURN URLs
#   checked at nginx -t, each welcome's credential) and t/040-tray.t (the
#   presence zone, the tray's passes and its WebSockets): ok when the
#   suite passes and nginx wrote no
#   report.  Leak checking is off there: nginx itself leaves its cycle's
#   arrays at exit, and its unwinding (no frame pointers) cannot tell
#   those from the module's; the module's common/ code is leak-checked
#   by the unit tests.
#
# The sanitizer options come from the environment (make sets
# ASAN_OPTIONS=detect_leaks=1 and UBSAN_OPTIONS=halt_on_error=1); this
# file adds log_path for the worker, so a report lands in a file whatever
# the suite does with the worker's output.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(basename dirname);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use Test::More;

my $top = abs_path(dirname(__FILE__) . '/..');
chdir $top or die "chdir $top: $!";

my $seconds = $ENV{SANITIZE_FUZZ_SECONDS} || 5;
my $tmp = tempdir('rooms-sanitize-XXXXXX', TMPDIR => 1, CLEANUP => 1);
# nginx's workers run as nobody: they must reach their report folders
# below, or a sanitizer that has something to say dies trying to open its
# log (a worker gone, "no response from nginx", instead of a report)
chmod 0711, $tmp;

# the tail of a long output, for diag
sub tail {
    my ($text, $n) = @_;
    my @l = split /\n/, $text;
    @l = @l[-$n .. -1] if @l > $n;
    return join("\n", @l);
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return "$path: $!";
    local $/;
    return scalar <$fh>;
}

# ---- fuzz targets ----

for my $src (sort glob 'tests/fuzz/fuzz_*.c') {
    my $name = basename($src, '.c');
    my $bin = "build/fuzz/$name";

    if (!-x $bin) {
        fail("$name: built (make sanitize-build)");
        next;
    }

    my $corpus = "$tmp/$name.corpus";
    mkdir $corpus or die "mkdir $corpus: $!";
    for my $seed (glob "tests/fuzz/corpus/$name/*") {
        copy($seed, $corpus) or die "copy $seed: $!";
    }

    my $out = `$bin -max_total_time=$seconds -print_final_stats=1 -artifact_prefix=$tmp/$name- $corpus 2>&1`;
    my $rc = $?;
    my ($runs) = $out =~ /stat::number_of_executed_units:\s*(\d+)/;
    my $reported = $out =~ /ERROR: |runtime error:|SUMMARY: /;

    ok($rc == 0 && !$reported && defined $runs,
       "$name: ${seconds} s of fuzzing, nothing reported")
        or diag(tail($out, 40));
    note("$name: " . ($runs // '?') . " executions");
}

# ---- the media worker ----

my $worker = 'build/asan/rooms-worker';

for my $suite ('t/010-host-ws.t', 't/011-lobby.t', 't/020-ring-overflow.t')
{
    if (!-x $worker) {
        fail("$suite with $worker: built (make sanitize-build)");
        next;
    }

    my $dir = "$tmp/" . basename($suite, '.t');
    mkdir $dir or die "mkdir $dir: $!";

    local $ENV{TEST_NGINX_ROOMS_WORKER} = "$top/$worker";
    local $ENV{ASAN_OPTIONS} = join ':', grep { length }
        ($ENV{ASAN_OPTIONS} // 'detect_leaks=1'), "log_path=$dir/asan";
    local $ENV{UBSAN_OPTIONS} = join ':', grep { length }
        ($ENV{UBSAN_OPTIONS} // 'halt_on_error=1'), "log_path=$dir/ubsan";

    my $out = `$^X -I t/lib/harness -I t/lib $suite 2>&1`;
    my $rc = $?;
    my @reports = glob "$dir/*";

    ok($rc == 0 && $out !~ /^not ok/m,
       "$suite passes with the media worker under ASan and UBSan")
        or diag(join("\n", grep { /^not ok|^#\s+(got|expected)/ }
                                split /\n/, $out), "\n", tail($out, 30));
    ok(!@reports, "$suite: the worker reported nothing")
        or diag(join "\n", map { tail(slurp($_), 40) } @reports);
}

# ---- the nginx module ----

my $module = "$top/build/asan/ngx_rooms_module.so";
my $runtimes = join ' ', map { my $f = `gcc -print-file-name=$_`; chomp $f; $f }
                         qw(libasan.so libubsan.so);
my $wrapper = "$tmp/nginx-sanitized";
open my $w, '>', $wrapper or die "$wrapper: $!";
print $w "#!/bin/sh\nLD_PRELOAD='$runtimes' exec "
    . ($ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx') . " \"\$@\"\n";
close $w;
chmod 0755, $wrapper;

for my $suite ('t/002-create-read.t', 't/003-host-actions.t',
                't/030-metrics.t', 't/032-identity.t', 't/033-policy.t',
                't/034-turn.t', 't/040-tray.t')
{
    if (!-f $module) {
        fail("$suite with $module: built (make sanitize-build)");
        next;
    }

    my $dir = "$tmp/module-" . basename($suite, '.t');
    mkdir $dir or die "mkdir $dir: $!";
    # the worker processes run as nobody when nginx starts as root
    chmod 0777, $dir;

    local $ENV{TEST_NGINX_BINARY} = $wrapper;
    local $ENV{TEST_NGINX_ROOMS_MODULE} = $module;
    local $ENV{ASAN_OPTIONS} = "detect_leaks=0:log_path=$dir/asan";
    local $ENV{UBSAN_OPTIONS} = join ':', grep { length }
        ($ENV{UBSAN_OPTIONS} // 'halt_on_error=1'), "log_path=$dir/ubsan";

    my $out = `$^X -I t/lib/harness -I t/lib $suite 2>&1`;
    my $rc = $?;
    # the module's fibers switch stacks with swapcontext, which ASan
    # always warns of once per process even when every switch is
    # annotated (common/rooms_fiber.c): that line alone is no report
    my @reports = grep { slurp($_) !~ /\A(?:==\d+==WARNING: ASan doesn't fully support makecontext\/swapcontext functions and may produce false positives in some cases!\n)+\z/ } glob "$dir/*san*";

    ok($rc == 0 && $out !~ /^not ok/m,
       "$suite passes with the module under ASan and UBSan")
        or diag(tail($out, 30));
    ok(!@reports, "$suite: nginx with the module reported nothing")
        or diag(join "\n", map { tail(slurp($_), 40) } @reports);
}

done_testing();
