package Test::Nginx::Socket;

# The subset of Test::Nginx::Socket (openresty/test-nginx) that the ngx_rooms
# suites use, written for this project because Debian has no Test::Nginx.
# The .t files stay runnable under the real module: same block sections,
# same functions, same environment variables (TEST_NGINX_BINARY,
# TEST_NGINX_SERVER_PORT, TEST_NGINX_SERVROOT, TEST_NGINX_USE_HUP,
# TEST_NGINX_NO_CLEAN), same preprocessor and response-body-check hooks.
#
# Sections: config, http_config, main_config, request (a string or, with
# eval, an array), more_headers, raw_request (a string or, with eval, an
# array of pieces of one request, written one after the other with
# raw_request_middle_delay seconds between them), error_code, response_body,
# response_body_like, response_body_unlike, response_headers,
# response_headers_like, error_log, no_error_log, must_die, timeout,
# log_level, raw_request_middle_delay, user_files (">>> name" then its
# text, written into html_dir() before nginx starts).  Arrays in request pair with
# arrays in the checks, one element per request; error_log and no_error_log
# hold for each request's own log lines, as in the real module.

use strict;
use warnings;

use Cwd qw(cwd);
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(sleep time);
use Test::More ();
use Test::Base ();
use HTTP::Response;

our @EXPORT = qw(
    run_tests repeat_each no_shuffle workers master_on master_off
    master_process_enabled log_level no_long_string no_root_location
    add_block_preprocessor add_response_body_check blocks server_port
    no_diff env_to_nginx worker_connections html_dir
);

our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
our $ServerAddr = '127.0.0.1';
our $ServRoot = $ENV{TEST_NGINX_SERVROOT} || cwd() . '/t/servroot';
our $NginxBinary = $ENV{TEST_NGINX_BINARY}
    || (-x '/usr/sbin/nginx' ? '/usr/sbin/nginx' : 'nginx');
our $UseHup = $ENV{TEST_NGINX_USE_HUP};
our $Workers = 1;
our $WorkerConnections = 64;
our $MasterProcessEnabled = 'off';
our $LogLevel = 'debug';
our $RepeatEach = 1;
our $NoRootLocation = 0;
our @BlockPreprocessors;
our @ResponseBodyChecks;
our @EnvToNginx;
our $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 10;

# Test::Base needs its import to have run once; do it in a private package
# so none of its exports land here
BEGIN {
    package Test::Nginx::Socket::Spec;
    Test::Base->import();
}

my $Base = Test::Base->new;
my $NginxPid;
my $PrevConfig;
my $ConfigVersion = 0;

sub import {
    my ($class, @args) = @_;
    my $caller = caller;

    if (@args == 1 && $args[0] eq 'no_plan') {
        Test::More::plan('no_plan');
    } elsif (@args) {
        Test::More::plan(@args);
    }

    no strict 'refs';
    for my $f (@EXPORT) {
        *{"${caller}::$f"} = \&{"Test::Nginx::Socket::$f"};
    }
    # what the real module's Test::Base base class gives a suite; a suite
    # that calls anything else of Test::More (note, done_testing, ...)
    # must "use Test::More" itself, as it must under the real one
    for my $f (qw(ok is isnt like unlike is_deeply cmp_ok pass fail diag
                  plan)) {
        *{"${caller}::$f"} = \&{"Test::More::$f"};
    }
}

sub repeat_each { $RepeatEach = shift if @_; $RepeatEach }
sub no_shuffle { }    # blocks always run in file order here
sub workers { $Workers = shift }
sub worker_connections { $WorkerConnections = shift }
sub master_on { $MasterProcessEnabled = 'on' }
sub master_off { $MasterProcessEnabled = 'off' }
sub master_process_enabled { $MasterProcessEnabled = shift ? 'on' : 'off' }
sub log_level { $LogLevel = shift }
sub no_long_string { }
sub no_diff { }
sub no_root_location { $NoRootLocation = 1 }
sub server_port { $ServerPort }
sub html_dir { "$ServRoot/html" }
sub env_to_nginx { push @EnvToNginx, @_ }
sub add_block_preprocessor { push @BlockPreprocessors, shift }
sub add_response_body_check { push @ResponseBodyChecks, shift }
sub blocks { $Base->blocks(@_) }

sub bail { Test::More::BAIL_OUT(join '', @_) }

sub expand_env {
    my $s = shift;
    return '' unless defined $s;
    $s =~ s/\$(TEST_NGINX_[_A-Z0-9]+)/
        defined $ENV{$1} ? $ENV{$1} : bail("No environment $1 defined.\n")/eg;
    return $s;
}

sub write_config {
    my ($block, $config) = @_;
    my $text = config_text($block, $config);

    open my $out, '>', "$ServRoot/conf/nginx.conf"
        or bail("cannot write nginx.conf: $!");
    print $out $text;
    close $out;
}

sub config_text {
    my ($block, $config) = @_;

    my $http_config = expand_env($block->http_config);
    my $main_config = expand_env($block->main_config);
    my $env = join '', map { "env $_;\n" } @EnvToNginx;
    my $master = $UseHup ? 'on' : $MasterProcessEnabled;
    my $root = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $ServRoot/html;
            index index.html;
        }
_EOC_
    my $ver = $UseHup ? <<"_EOC_" : '';
    server {
        listen $ServerPort;
        server_name 'Test-Nginx';
        location = /ver {
            return 200 '$ConfigVersion';
        }
    }
_EOC_

    return <<"_EOC_";
worker_processes  $Workers;
daemon on;
master_process $master;
error_log $ServRoot/logs/error.log $LogLevel;
pid       $ServRoot/logs/nginx.pid;
$env
$main_config

http {
    access_log $ServRoot/logs/access.log;
    default_type text/plain;
    keepalive_timeout 68;
    client_body_temp_path $ServRoot/client_body_temp;

$http_config

    server {
        listen          $ServerPort;
        server_name     'localhost';
        client_max_body_size 30M;

$config

$root
    }
$ver
}

events {
    accept_mutex off;
    worker_connections $WorkerConnections;
}
_EOC_
}

sub setup_servroot {
    remove_tree($ServRoot) if -d $ServRoot && !$ENV{TEST_NGINX_NO_CLEAN};
    make_path("$ServRoot/conf", "$ServRoot/logs", "$ServRoot/html",
              "$ServRoot/client_body_temp");
    # workers run as nobody when the suite runs as root
    chmod 0777, "$ServRoot/client_body_temp";
}

# "--- user_files": each ">>> name" line starts a file of html_dir()
sub write_user_files {
    my $block = shift;
    my $files = $block->user_files;
    return unless defined $files;

    my ($name, %text, @order);
    for my $line (split /^/, $files) {
        if ($line =~ /^>>> (\S+)\s*$/) {
            $name = $1;
            push @order, $name;
            $text{$name} = '';
        } elsif (defined $name) {
            $text{$name} .= $line;
        }
    }

    for my $f (@order) {
        my $path = html_dir() . "/$f";
        make_path($path =~ m{^(.*)/} ? $1 : '.');
        open my $out, '>', $path or bail("cannot write $path: $!");
        print $out $text{$f};
        close $out;
    }
}

sub read_pid {
    open my $in, '<', "$ServRoot/logs/nginx.pid" or return undef;
    my $pid = <$in>;
    close $in;
    return undef unless defined $pid;
    chomp $pid;
    return $pid =~ /^\d+$/ ? $pid : undef;
}

# a daemon's parent may be an init that never reaps it: a zombie is gone
sub alive {
    my $pid = shift;
    return 0 unless kill(0, $pid);
    open my $in, '<', "/proc/$pid/stat" or return 1;
    my $stat = <$in> // '';
    close $in;
    return $stat =~ /^\d+ \(.*\) Z/ ? 0 : 1;
}

sub stop_nginx {
    my $pid = $NginxPid || read_pid();
    undef $NginxPid;
    return unless $pid && alive($pid);
    kill 'TERM', $pid;
    for (1 .. 200) {
        return unless alive($pid);
        sleep 0.01;
    }
    kill 'KILL', $pid;
    sleep 0.1;
}

sub port_open {
    my $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                     PeerPort => $ServerPort,
                                     Proto => 'tcp', Timeout => 1);
    return 0 unless $sock;
    close $sock;
    return 1;
}

# Starts nginx; returns its exit status (0) or the failure status.
sub start_nginx {
    my $cmd = "$NginxBinary -p $ServRoot/ -c $ServRoot/conf/nginx.conf";
    my $rc = system("$cmd 2>>$ServRoot/logs/error.log");
    return $rc if $rc != 0;

    for (1 .. 200) {
        $NginxPid = read_pid();
        last if $NginxPid && port_open();
        sleep 0.02;
    }
    bail("nginx did not start: see $ServRoot/logs/error.log")
        unless $NginxPid;
    return 0;
}

sub reload_nginx {
    my $name = shift;
    my $pid = read_pid() or bail("$name - no nginx to reload");
    kill 'HUP', $pid;
    my $want = $ConfigVersion;
    for (1 .. 200) {
        my $got = http_raw("GET /ver HTTP/1.1\r\nHost: Test-Nginx\r\n"
                           . "Connection: close\r\n\r\n", 2);
        if (defined $got && $got =~ /\r\n\r\n\Q$want\E$/s) {
            sleep 0.2;    # let the old workers finish their exit
            return;
        }
        sleep 0.05;
    }
    Test::More::fail("$name - nginx did not reload its configuration");
}

# $req is the request, or an array of its pieces, each written on its own
# after $delay seconds
sub http_raw {
    my ($req, $timeout, $delay) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                     PeerPort => $ServerPort,
                                     Proto => 'tcp', Timeout => $timeout)
        or return undef;
    binmode $sock;
    my @pieces = ref $req eq 'ARRAY' ? @$req : ($req);
    for my $i (0 .. $#pieces) {
        sleep $delay if $i && $delay;
        syswrite $sock, $pieces[$i];
    }
    my $sel = IO::Select->new($sock);
    my $resp = '';
    my $deadline = time + $timeout;
    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $resp .= $buf;
    }
    close $sock;
    return $resp;
}

sub build_request {
    my ($req, $more_headers) = @_;
    $req =~ s/^\s+//;
    my ($line, $body) = split /\n/, $req, 2;
    $line =~ s/\s+$//;
    my ($method, $uri, $proto) = split /\s+/, $line;
    $uri = '/' unless defined $uri;
    $proto ||= 'HTTP/1.1';
    $body = '' unless defined $body;

    my %have;
    my $headers = '';
    for my $h (split /\n/, defined $more_headers ? $more_headers : '') {
        next unless $h =~ /\S/;
        $h =~ s/\s+$//;
        my ($k) = split /\s*:\s*/, $h, 2;
        $have{lc $k} = 1;
        $headers .= "$h\r\n";
    }
    $headers = "Host: localhost\r\n$headers" unless $have{host};
    $headers .= "Connection: close\r\n" unless $have{connection};
    if (length $body && !$have{'content-length'}
        && !$have{'transfer-encoding'})
    {
        $headers .= "Content-Length: " . length($body) . "\r\n";
    }
    return "$method $uri $proto\r\n$headers\r\n$body";
}

sub pick {
    my ($v, $i) = @_;
    return ref $v eq 'ARRAY' ? $v->[$i] : $v;
}

sub check_response {
    my ($block, $name, $raw, $i) = @_;

    unless (defined $raw && length $raw) {
        Test::More::fail("$name - no response from nginx");
        return;
    }

    my $res = HTTP::Response->parse($raw);
    my $content = $res->content;
    if (($res->header('Transfer-Encoding') || '') =~ /chunked/i) {
        my $decoded = '';
        while ($content =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $len = hex $1;
            last if $len == 0;
            $decoded .= substr($content, 0, $len, '');
            $content =~ s/^\r\n//;
        }
        $content = $decoded;
    }

    my $code = pick(scalar($block->error_code), $i);
    if (defined $code) {
        $code =~ s/\s+$//;
        Test::More::is($res->code, $code, "$name - status code ok");
    }

    my $headers = pick(scalar($block->response_headers), $i);
    if (defined $headers) {
        for my $line (split /\n/, $headers) {
            next unless $line =~ /\S/;
            $line =~ s/^\s+|\s+$//g;
            if ($line =~ s/^!\s*//) {
                Test::More::ok(!defined $res->header($line),
                               "$name - header $line absent");
                next;
            }
            my ($k, $v) = split /\s*:\s*/, $line, 2;
            Test::More::is($res->header($k), $v, "$name - header $k ok");
        }
    }

    my $headers_like = pick(scalar($block->response_headers_like), $i);
    if (defined $headers_like) {
        for my $line (split /\n/, $headers_like) {
            next unless $line =~ /\S/;
            $line =~ s/^\s+|\s+$//g;
            my ($k, $v) = split /\s*:\s*/, $line, 2;
            Test::More::like($res->header($k) // '', qr/$v/s,
                             "$name - header $k like");
        }
    }

    my $body = pick(scalar($block->response_body), $i);
    if (defined $body) {
        Test::More::is($content, $body, "$name - response_body ok");
    }

    my $like = pick(scalar($block->response_body_like), $i);
    if (defined $like) {
        $like = qr/$like/s unless ref $like eq 'Regexp';
        Test::More::like($content, $like, "$name - response_body_like ok");
    }

    my $unlike = pick(scalar($block->response_body_unlike), $i);
    if (defined $unlike) {
        $unlike = qr/$unlike/s unless ref $unlike eq 'Regexp';
        Test::More::unlike($content, $unlike,
                           "$name - response_body_unlike ok");
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $i, 0, 0);
    }
}

sub check_error_log {
    my ($block, $name, $from) = @_;

    open my $in, '<', "$ServRoot/logs/error.log" or return $from;
    seek $in, $from, 0;
    my $log = do { local $/; <$in> } // '';
    my $end = tell $in;
    close $in;

    check_severe($block, $name, $log);

    for my $pair ([error_log => 1], [no_error_log => 0]) {
        my ($section, $want) = @$pair;
        my $v = $block->$section;
        next unless defined $v;
        my @pats = ref $v eq 'ARRAY' ? @$v
                 : ref $v eq 'Regexp' ? ($v)
                 : grep { /\S/ } split /\n/, $v;
        for my $pat (@pats) {
            my $hit = ref $pat eq 'Regexp' ? $log =~ $pat
                                           : index($log, $pat) >= 0;
            Test::More::ok($want ? $hit : !$hit,
                           "$name - $section: $pat");
        }
    }

    return $end;
}

# An [alert], [crit] or [emerg] line written during a block fails it,
# unless the block expects it: --- must_die, or an --- error_log pattern
# that names the level (as the real Test::Nginx::Socket decides; it warns
# where this harness fails, so a suite green here is green there).
sub check_severe {
    my ($block, $name, $log) = @_;

    return if defined $block->must_die;

    my $want = $block->error_log;
    my @pats = !defined $want ? ()
             : ref $want eq 'ARRAY' ? @$want
             : ref $want eq 'Regexp' ? ($want)
             : grep { /\S/ } split /\n/, $want;

    for my $level (qw(alert crit emerg)) {
        next if grep { !ref $_ && index($_, "[$level") >= 0 } @pats;

        my @lines = grep { /\[$level\]/ } split /\n/, $log;
        Test::More::ok(!@lines, "$name - no [$level] in the error log")
            or Test::More::diag(join "\n", @lines);
    }
}

sub run_test {
    my $block = shift;
    my $name = $block->name;
    my $config = expand_env($block->config);

    local $LogLevel = $block->log_level || $LogLevel;

    my $log_from = 0;

    if (defined $block->must_die) {
        stop_nginx();
        setup_servroot();
        write_user_files($block);
        write_config($block, $config);
        my $rc = start_nginx();
        Test::More::ok($rc != 0, "$name - nginx refused the configuration");
        stop_nginx() if $rc == 0;
        undef $PrevConfig;
        check_error_log($block, $name, 0);
        return;
    }

    if ($UseHup && $NginxPid && alive($NginxPid)) {
        $log_from = -s "$ServRoot/logs/error.log" || 0;
        write_user_files($block);
        my $text = config_text($block, $config);
        if (!defined $PrevConfig || $text ne $PrevConfig) {
            $ConfigVersion++;
            write_config($block, $config);
            reload_nginx($name);
        }
        $PrevConfig = config_text($block, $config);
    } else {
        stop_nginx();
        setup_servroot();
        write_user_files($block);
        $ConfigVersion++;
        write_config($block, $config);
        my $rc = start_nginx();
        if ($rc != 0) {
            Test::More::fail("$name - nginx failed to start: "
                             . `tail -3 $ServRoot/logs/error.log`);
            return;
        }
        $PrevConfig = config_text($block, $config);
    }

    my $timeout = $block->timeout || $Timeout;

    if (defined $block->raw_request) {
        # one request, whole or in pieces
        my $delay = $block->raw_request_middle_delay;
        $delay =~ s/\s+$//s if defined $delay;
        my $resp = http_raw(scalar($block->raw_request), $timeout, $delay);
        check_response($block, $name, $resp, 0);

    } else {
        my $requests = $block->request;
        my @reqs = ref $requests eq 'ARRAY' ? @$requests : ($requests);

        # as the real module does, each request of an array is checked
        # against the log lines written since the one before it: every
        # --- error_log pattern must show during each request
        for my $i (0 .. $#reqs) {
            my $more = pick(scalar($block->more_headers), $i);
            my $resp = http_raw(build_request($reqs[$i], $more), $timeout);
            check_response($block, $name, $resp, ref $requests eq 'ARRAY'
                                                  ? $i : 0);
            next if $i == $#reqs;
            sleep 0.05;
            $log_from = check_error_log($block, $name, $log_from);
        }
    }

    # workers write the log asynchronously to our reads
    sleep 0.05;
    check_error_log($block, $name, $log_from);

    stop_nginx() unless $UseHup;
}

sub run_tests {
    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;

    for my $block ($Base->blocks) {
        for my $hdl (@BlockPreprocessors) {
            my $b = $hdl->($block);
            $block = $b if ref $b;
        }
        for (1 .. $RepeatEach) {
            run_test($block);
        }
    }

    stop_nginx();
}

END { stop_nginx() }

1;
