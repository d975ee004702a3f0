package RoomsTest;

# Shared setup for the ngx_rooms suites, written against the public
# Test::Nginx::Socket API only (add_block_preprocessor,
# add_response_body_check), so it runs under the real Test::Nginx too.
#
# - loads the freshly built module and gives each block a default
#   http_config (zone + the suite's store, $TEST_NGINX_ROOMS_STORE: a
#   file in a per-file temporary folder, or under `make test-pg` a
#   PostgreSQL database of the suite's own: t/lib/RoomsStore.pm) and
#   config (location / { rooms; }) unless the block sets its own;
# - "--- capture: code key=host_key" stores fields of a JSON response in
#   %RoomsTest::Vars; "{{code}}" and "{{key}}" in later blocks' request,
#   more_headers and checks are replaced by them.  This is how one block
#   acts on the room an earlier block created.
# - WebSocket helpers: ws_handshake() and ws_frame() build a client's
#   bytes for "--- raw_request eval"; "--- ws_frames" (exact) and
#   "--- ws_frames_like" (a regex) check the server frames that follow a
#   101, rendered one per line as "text <payload>", "close <code> <reason>",
#   "ping <payload>", "pong <payload>" or "binary <hex>".  ws_open(),
#   ws_send() and ws_recv() drive a live WebSocket from a check.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Select;
use JSON::PP;

use Test::Nginx::Socket;
use RoomsStore;

our %Vars;

my $top = abs_path(dirname(__FILE__) . '/../..');

$ENV{TEST_NGINX_ROOMS_MODULE} ||= "$top/build/ngx_rooms_module.so";

unless ($ENV{TEST_NGINX_ROOMS_DIR}) {
    $ENV{TEST_NGINX_ROOMS_DIR} = tempdir('rooms-t-XXXXXX', TMPDIR => 1,
                                         CLEANUP => 1);
    # the workers drop to nobody when the suite runs as root
    chmod 0777, $ENV{TEST_NGINX_ROOMS_DIR};
}

$ENV{TEST_NGINX_ROOMS_STORE} ||= store_new('rooms');

our $HttpConfig = <<'_EOC_';
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_STORE;
_EOC_

our $Config = <<'_EOC_';
    location / {
        rooms;
    }
_EOC_

sub fill {
    my $v = shift;
    return $v unless defined $v;
    if (ref $v eq 'ARRAY') {
        return [ map { fill($_) } @$v ];
    }
    if (ref $v eq 'Regexp') {
        my $re = "$v";
        $re =~ s/\\\{\\\{(\w+)\\\}\\\}/
            defined $Vars{$1} ? quotemeta($Vars{$1})
                              : die "no captured value {{$1}}\n"/eg;
        return qr/$re/;
    }
    return $v if ref $v;
    $v =~ s/\{\{(\w+)\}\}/
        defined $Vars{$1} ? $Vars{$1} : die "no captured value {{$1}}\n"/eg;
    return $v;
}

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->main_config) {
        $block->set_value('main_config',
                          "load_module $ENV{TEST_NGINX_ROOMS_MODULE};");
    }

    if (!defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }

    if (!defined $block->config) {
        $block->set_value('config', $Config);
    }

    for my $section (qw(request raw_request more_headers response_body
                        response_body_like response_headers error_log
                        ws_frames ws_frames_like))
    {
        my $v = $block->$section;
        next unless defined $v;
        $block->set_value($section, fill($v));
    }

    return $block;
});

add_response_body_check(sub {
    my ($block, $body, $req_idx) = @_;

    my $capture = $block->capture;
    return unless defined $capture;

    my $data = eval { decode_json($body) };
    return unless ref $data eq 'HASH';

    for my $item (split ' ', $capture) {
        my ($var, $field) = $item =~ /^(\w+)=(\w+)$/ ? ($1, $2)
                                                      : ($item, $item);
        $Vars{$var} = $data->{$field} if defined $data->{$field};
    }
});

add_response_body_check(sub {
    my ($block, $body) = @_;

    my $exact = $block->ws_frames;
    my $like = $block->ws_frames_like;
    return unless defined $exact || defined $like;

    my $got = ws_render($body);
    my $name = $block->name;

    if (defined $exact) {
        Test::More::is($got, $exact, "$name - ws_frames ok");
    }
    if (defined $like) {
        if (ref $like ne 'Regexp') {
            chomp $like;
            $like = qr/$like/s;
        }
        Test::More::like($got, $like, "$name - ws_frames_like ok");
    }
});

# ---- WebSocket (RFC 6455) client bytes and server frames ----

# the key of RFC 6455 1.3, whose accept value is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
our $WsKey = 'dGhlIHNhbXBsZSBub25jZQ==';

my %Op = (cont => 0, text => 1, binary => 2, close => 8, ping => 9,
          pong => 10);
my %OpName = reverse %Op;

# A handshake for $path.  Options: key, version (undef leaves the header
# out), method, proto, headers (extra lines), no_upgrade, no_connection.
sub ws_handshake {
    my ($path, %opt) = @_;
    my $method = $opt{method} // 'GET';
    my $proto = $opt{proto} // 'HTTP/1.1';
    my $key = exists $opt{key} ? $opt{key} : $WsKey;
    my $version = exists $opt{version} ? $opt{version} : 13;
    my $req = "$method $path $proto\r\nHost: localhost\r\n";
    $req .= "Upgrade: websocket\r\n" unless $opt{no_upgrade};
    $req .= "Connection: keep-alive, Upgrade\r\n" unless $opt{no_connection};
    $req .= "Sec-WebSocket-Key: $key\r\n" if defined $key;
    $req .= "Sec-WebSocket-Version: $version\r\n" if defined $version;
    $req .= $opt{headers} // '';
    return "$req\r\n";
}

# A client frame.  $op is a name (text, binary, close, ping, pong, cont)
# or a number.  Options: mask => 0 sends it unmasked, fin => 0 leaves it
# open, len => a length to claim instead of the payload's, code => a close
# code put before the payload.
sub ws_frame {
    my ($op, $payload, %opt) = @_;
    $payload //= '';
    $op = $Op{$op} // $op;
    $payload = pack('n', $opt{code}) . $payload if defined $opt{code};
    utf8::encode($payload) if utf8::is_utf8($payload);
    my $fin = (!exists $opt{fin} || $opt{fin}) ? 0x80 : 0;
    my $mask = exists $opt{mask} ? $opt{mask} : 1;
    my $len = $opt{len} // length $payload;
    my $m = $mask ? 0x80 : 0;
    my $frame = pack('C', $fin | $op);
    if ($len < 126) {
        $frame .= pack('C', $m | $len);
    } elsif ($len < 65536) {
        $frame .= pack('Cn', $m | 126, $len);
    } else {
        $frame .= pack('CNN', $m | 127, int($len / 2**32), $len % 2**32);
    }
    return $frame . $payload unless $mask;
    my @key = (0x37, 0xfa, 0x21, 0x3d);
    my $i = 0;
    my $masked = join '', map { chr(ord($_) ^ $key[$i++ % 4]) }
                           split //, $payload;
    return $frame . pack('C4', @key) . $masked;
}

# Server frames in $bytes: a list of [opcode name, payload], and what is
# left over (an incomplete frame).
sub ws_parse {
    my ($bytes) = @_;
    my @frames;
    while (length $bytes >= 2) {
        my ($b0, $b1) = unpack('CC', $bytes);
        my ($len, $off) = ($b1 & 0x7f, 2);
        if ($len == 126) {
            last if length $bytes < 4;
            $len = unpack('n', substr($bytes, 2, 2));
            $off = 4;
        } elsif ($len == 127) {
            last if length $bytes < 10;
            my ($hi, $lo) = unpack('NN', substr($bytes, 2, 8));
            $len = $hi * 2**32 + $lo;
            $off = 10;
        }
        # a server never masks; a mask bit shows up as a 4-byte surprise
        $off += 4 if $b1 & 0x80;
        last if length $bytes < $off + $len;
        my $op = $b0 & 0x0f;
        push @frames, [$OpName{$op} // "op$op", substr($bytes, $off, $len),
                       $b0, $b1];
        substr($bytes, 0, $off + $len, '');
    }
    return (\@frames, $bytes);
}

sub ws_line {
    my ($f) = @_;
    my ($op, $p, $b0, $b1) = @$f;
    my $flags = '';
    $flags .= ' [not fin]' unless $b0 & 0x80;
    $flags .= ' [masked]' if $b1 & 0x80;
    $flags .= ' [rsv]' if $b0 & 0x70;
    if ($op eq 'close') {
        return "close$flags" if length $p < 2;
        return "close$flags " . unpack('n', $p) . ' ' . substr($p, 2);
    }
    if ($op eq 'binary' || $op =~ /^op/) {
        return "$op$flags " . unpack('H*', $p);
    }
    return "$op$flags $p";
}

# The frames of a response body, one line each (with a final newline).
sub ws_render {
    my ($bytes) = @_;
    my ($frames, $rest) = ws_parse($bytes // '');
    my $out = join '', map { ws_line($_) . "\n" } @$frames;
    $out .= 'partial ' . length($rest) . " bytes\n" if length $rest;
    return $out;
}

# A live WebSocket: connects, sends the handshake for $path and $first
# (frames in the same write), reads the 101.  Returns the socket and the
# response head, or (undef, what came instead).
sub ws_open {
    my ($path, $first, %opt) = @_;
    require IO::Socket::INET;
    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $opt{port} || $ENV{TEST_NGINX_SERVER_PORT} || 1984,
        Proto => 'tcp', Timeout => 10) or return (undef, "connect: $!");
    binmode $sock;
    syswrite $sock, ws_handshake($path, %opt) . ($first // '');
    my $buf = '';
    my $sel = IO::Select->new($sock);
    while ($buf !~ /\r\n\r\n/) {
        last unless $sel->can_read(5);
        my $n = sysread $sock, $buf, 65536, length $buf;
        last unless $n;
    }
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    return (undef, $buf) unless ($head // '') =~ m{^HTTP/1\.1 101 };
    ${*$sock}{rooms_ws_buf} = $rest // '';
    return ($sock, $head);
}

sub ws_send {
    my ($sock, @frames) = @_;
    syswrite $sock, join('', @frames);
}

# Reads until $n frames arrived, the server closed ("EOF" is the last
# line then), or $timeout seconds passed.  Returns the rendered lines.
sub ws_recv {
    my ($sock, $n, $timeout) = @_;
    require Time::HiRes;
    $timeout //= 5;
    my $deadline = Time::HiRes::time() + $timeout;
    my $sel = IO::Select->new($sock);
    my @got;
    for (;;) {
        my ($frames, $rest) = ws_parse(${*$sock}{rooms_ws_buf});
        if (@$frames) {
            ${*$sock}{rooms_ws_buf} = $rest;
            push @got, map { ws_line($_) } @$frames;
        }
        last if @got >= $n;
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0 || !$sel->can_read($left);
        my $k = sysread $sock, ${*$sock}{rooms_ws_buf}, 65536,
                        length ${*$sock}{rooms_ws_buf};
        if (!$k) {
            push @got, 'EOF';
            last;
        }
    }
    return join '', map { "$_\n" } @got;
}

# helpers for suites that drive nginx from a response-body check

# http($method, $path, json => {...}, key => $host_key, port => $port,
#      headers => {name => value}, cookie => "name=value"):
# ($status, {lower-case header => value}, decoded JSON or the raw body)
sub http {
    my ($method, $path, %opt) = @_;
    require IO::Socket::INET;
    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $opt{port} || $ENV{TEST_NGINX_SERVER_PORT} || 1984,
        Proto => 'tcp', Timeout => 10) or return (0, {}, '');
    my $body = defined $opt{json} ? encode_json($opt{json}) : '';
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
            . "Connection: close\r\n";
    $req .= "Content-Type: application/json\r\n" if length $body;
    $req .= "Content-Length: " . length($body) . "\r\n" if length $body;
    $req .= "Authorization: Bearer $opt{key}\r\n" if $opt{key};
    $req .= "$_: $opt{headers}{$_}\r\n" for sort keys %{ $opt{headers} // {} };
    $req .= "Cookie: $opt{cookie}\r\n" if $opt{cookie};
    print $sock "$req\r\n$body";
    local $/;
    my $resp = <$sock> // '';
    close $sock;
    my ($head, $content) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %h;
    for (split /\r\n/, $head // '') {
        $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
    }
    my $json = eval { decode_json($content // '') };
    return ($status // 0, \%h, $json // $content);
}

1;
