# Webhooks to an https receiver, the way README "Webhooks" tells an admin
# to set it up: rooms_webhook names a local http address, and a server
# block of the same nginx passes the requests on over TLS (proxy_pass
# https://, proxy_ssl_verify on, the receiver's CA trusted).  Real nginx,
# a real store, a real TLS receiver (IO::Socket::SSL, forked here):
# - with the receiver's certificate trusted, room.created arrives over TLS
#   with its signature (HMAC-SHA256 of "<timestamp>.<body>") intact;
# - a receiver whose certificate nginx does not trust (another CA) gets
#   nothing: the relay answers 502, the delivery fails and is counted, and
#   the event waits; once the trusted receiver is back, it arrives.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::SSL;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

use RoomsTest;
use RoomsLive;
use RoomsServer;

plan(skip_all => 'no openssl') unless `openssl version 2>/dev/null`;

my $dir = tempdir('rooms-hooks-tls-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;
my $port = $ENV{TEST_NGINX_SERVER_PORT} || free_port();
my $mport = free_port();           # /metrics
my $relay = free_port();           # the local http address rooms_webhook names
my $rport = free_port();           # the https receiver
my $secret = 'webhook-secret-0123456789abcdef';
my $log = "$dir/received.jsonl";
$ENV{TEST_NGINX_SERVER_PORT} = $port;

# two self-signed certificates for "localhost": the one nginx trusts, and
# one from nobody it knows
for my $name (qw(good evil)) {
    system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256"
           . " -nodes -days 2 -subj /CN=localhost"
           . " -addext subjectAltName=DNS:localhost -keyout $dir/$name.key"
           . " -out $dir/$name.pem 2>/dev/null") == 0
        or BAIL_OUT("openssl req failed");
    chmod 0644, "$dir/$name.pem", "$dir/$name.key";
}

# Forks a TLS server on $rport with certificate $name; each request (its
# headers and body) is appended to $log as a JSON line, answered 204.
sub receiver_start {
    my ($name) = @_;
    my $srv = IO::Socket::SSL->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $rport, Listen => 16,
                                   ReuseAddr => 1,
                                   SSL_server => 1,
                                   SSL_cert_file => "$dir/$name.pem",
                                   SSL_key_file => "$dir/$name.key")
        or die "receiver: $! $SSL_ERROR";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        for (;;) {
            my $c = $srv->accept or next;     # a failed handshake: next
            my $head = '';
            while (defined(my $l = <$c>)) {
                $head .= $l;
                last if $l eq "\r\n";
            }
            my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
            my $body = '';
            read($c, $body, $len) if $len;
            my %h;
            for (split /\r\n/, $head) {
                $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
            }
            open my $f, '>>', $log or POSIX::_exit(1);
            print $f encode_json({ headers => \%h, body => $body }), "\n";
            close $f;
            print $c "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
            close $c;
        }
    }
    close $srv;
    return $pid;
}

sub receiver_stop {
    my ($pid) = @_;
    kill 'KILL', $pid;
    waitpid $pid, 0;
}

sub received {
    open my $f, '<', $log or return ();
    my @r = map { my $r = decode_json($_); $r->{event} = eval {
                      decode_json($r->{body}) } // {}; $r } <$f>;
    close $f;
    return @r;
}

sub created {
    my ($code) = @_;
    return grep { ($_->{event}{type} // '') eq 'room.created'
                  && ($_->{event}{room}{code} // '') eq $code } received();
}

sub metric {
    my ($name) = @_;
    my ($st, undef, $body) = RoomsTest::http('GET', '/metrics',
                                             port => $mport);
    return $body =~ /^\Q$name\E (\d+)$/m ? $1 : -1;
}

# README "Webhooks", an https receiver: the relay server block
my $conf = <<CONF;
rooms_webhook http://127.0.0.1:$relay/hook $secret;
    server {
        listen 127.0.0.1:$relay;
        location / {
            proxy_pass https://127.0.0.1:$rport;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $dir/good.pem;
            proxy_ssl_name localhost;
            proxy_ssl_server_name on;
        }
    }
    server { listen 127.0.0.1:$mport;
             location = /metrics { rooms_metrics; } }
CONF
nginx_conf($dir, $port, http => $conf);
my ($rc, $out) = nginx_test($dir);
is($rc, 0, "nginx -t passes README's https relay") or diag($out);

my $rpid = receiver_start('good');
my $master = nginx_start($dir, $port);
ok($master, 'nginx runs') or BAIL_OUT(`tail -5 $dir/error.log`);

my $a = create_room(title => 'Over TLS');
ok(wait_for(15, sub { created($a->{code}) >= 1 }),
   'room.created reaches the https receiver');
my ($e) = created($a->{code});
is($e->{headers}{'x-rooms-signature'}, 'sha256=' . hmac_sha256_hex(
       "$e->{headers}{'x-rooms-timestamp'}.$e->{body}", $secret),
   'its signature verifies: the body came through the relay intact');
is($e->{event}{room}{code}, $a->{code}, 'the event names the room');

# a receiver that shows a certificate nginx does not trust
receiver_stop($rpid);
$rpid = receiver_start('evil');
my $failed = metric('rooms_webhook_deliveries_failed_total');
my $b = create_room(title => 'Untrusted');
ok(wait_for(15, sub {
       metric('rooms_webhook_deliveries_failed_total') > $failed }),
   'to an untrusted certificate, the delivery fails and is counted');
sleep 1;
is(scalar(created($b->{code})), 0, 'and the untrusted receiver gets nothing');
my $verify = `grep -c 'upstream SSL certificate verify error' $dir/error.log`;
ok($verify > 0, 'nginx logs why: the certificate did not verify');

receiver_stop($rpid);
$rpid = receiver_start('good');
ok(wait_for(40, sub { created($b->{code}) >= 1 }),
   'the trusted receiver back, the waiting event arrives');

nginx_stop($dir);
receiver_stop($rpid);

my @bad = log_alerts($dir);
is(scalar(@bad), 0, 'no alert, crit or emerg in the error log')
    or diag(join '', @bad);

done_testing();
