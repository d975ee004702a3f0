# `make run TLS=1` (scripts/run.sh): https on every address of the
# machine with a self-signed certificate made on first use in run/tls/,
# naming localhost, 127.0.0.1 and each of the machine's addresses;
# checked with curl --cacert on that certificate (and refused without
# it), at the printed URL (the one other devices use), at localhost and
# 127.0.0.1; the API works over it; a second start keeps the certificate.
# Runs run.sh on free ports in a temporary RUN_DIR.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

my $top = abs_path(dirname(__FILE__) . '/..');

plan(skip_all => 'run make first')
    unless -x "$top/build/rooms-worker" && -f "$top/build/ngx_rooms_module.so";
plan(skip_all => 'needs curl and openssl')
    unless system('command -v curl >/dev/null && command -v openssl >/dev/null')
           == 0;

sub free_port {
    my ($proto) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => $proto,
                                  $proto eq 'tcp' ? (Listen => 1) : ())
        or die "$proto: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

my $dir = tempdir('rooms-tls-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $port = free_port('tcp');
my $media = free_port('udp');
my $cert = "$dir/tls/cert.pem";
my $pid;

sub start_run {
    unlink "$dir.out";
    $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir.out" or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        $ENV{RUN_DIR} = $dir;
        $ENV{PORT} = $port;
        $ENV{MEDIA_PORT} = $media;
        $ENV{TLS} = 1;
        exec('sh', "$top/scripts/run.sh") or POSIX::_exit(127);
    }
    # its URL line, once nginx answers
    my $deadline = time + 20;
    my $out = '';
    while (time < $deadline) {
        $out = `cat $dir.out 2>/dev/null`;
        last if $out =~ /^ngx_rooms is running on (\S+)/m
                && curl("https://127.0.0.1:$port/") eq '200';
        sleep 0.2;
    }
    return $out;
}

sub stop_run {
    return unless $pid;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    undef $pid;
}

END {
    stop_run();
    unlink "$dir.out";
}

# the status curl gets, verifying against the run's certificate; or
# "curl <exit code>" when the TLS handshake or the connection fails
sub curl {
    my ($url, @more) = @_;
    my $st = `curl -sS -g -o /dev/null -w '%{http_code}' --max-time 5 @more --cacert $cert '$url' 2>/dev/null`;
    return $? ? 'curl ' . ($? >> 8) : $st;
}

my $out = start_run();
my ($url) = $out =~ /^ngx_rooms is running on (\S+)/m;
ok($url, "run.sh prints its URL: " . ($url // '(none)')) or diag($out);
like($out, qr/^made a certificate for /m, 'the certificate is made on first use');
ok(-s $cert && -s "$dir/tls/key.pem", 'it is kept in run/tls/');
is(sprintf('%04o', (stat "$dir/tls/key.pem")[2] & 07777), '0600',
   'its key is for us alone');

# the machine's addresses, as `ip` lists them
my @addrs = map { m{inet6? ([0-9a-fA-F.:]+)/} ? $1 : () }
            split /\n/, `ip -o addr show up scope global`;
diag('the machine\'s addresses: ' . (join(' ', @addrs) || '(none)'));

my $san = `openssl x509 -in $cert -noout -ext subjectAltName`;
like($san, qr/DNS:localhost\b/, 'subjectAltName: localhost');
for my $a ('127.0.0.1', @addrs) {
    my $check = `openssl x509 -in $cert -noout -checkip $a`;
    like($check, qr/does match/, "subjectAltName: $a");
}

if (@addrs) {
    my $first = $addrs[0] =~ /:/ ? "[$addrs[0]]" : $addrs[0];
    is($url, "https://$first:$port/",
       'the printed URL is the first address other devices reach');
} else {
    is($url, "https://localhost:$port/", 'no address: localhost');
}

is(curl($url), '200', "curl --cacert $cert $url: 200");
is(curl("https://localhost:$port/"), '200', 'https://localhost: 200');
is(curl("https://127.0.0.1:$port/"), '200', 'https://127.0.0.1: 200');
for my $a (@addrs[1 .. $#addrs]) {
    my $h = $a =~ /:/ ? "[$a]" : $a;
    is(curl("https://$h:$port/"), '200', "https://$h: 200");
}

my $plain = `curl -sS -o /dev/null --max-time 5 https://127.0.0.1:$port/ 2>&1`;
isnt($? >> 8, 0, 'without --cacert curl refuses the certificate (self-signed)')
    or diag($plain);

is(curl("https://127.0.0.1:$port/api/rooms", '-X', 'POST', '-H',
        "'Content-Type: application/json'", '-d', "'{\"title\":\"x\"}'"),
   '201', 'POST /api/rooms over https: 201');

my $fp = `openssl x509 -in $cert -noout -fingerprint -sha256`;
stop_run();

$out = start_run();
unlike($out, qr/made a certificate/, 'a second start makes no new certificate');
is(`openssl x509 -in $cert -noout -fingerprint -sha256`, $fp,
   'the same certificate is kept');
is(curl("https://localhost:$port/"), '200', 'and is served again');

done_testing();
