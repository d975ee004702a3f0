package RoomsTest;

# Shared setup for the ngx_rooms suites, written against the public
# Test::Nginx::Socket API only (add_block_preprocessor,
# add_response_body_check), so it runs under the real Test::Nginx too.
#
# - loads the freshly built module and gives each block a default
#   http_config (zone + store in a per-file temporary folder) and config
#   (location / { rooms; }) unless the block sets its own;
# - "--- capture: code key=host_key" stores fields of a JSON response in
#   %RoomsTest::Vars; "{{code}}" and "{{key}}" in later blocks' request,
#   more_headers and checks are replaced by them.  This is how one block
#   acts on the room an earlier block created.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use JSON::PP;

use Test::Nginx::Socket;

our %Vars;

my $top = abs_path(dirname(__FILE__) . '/../..');

$ENV{TEST_NGINX_ROOMS_MODULE} ||= "$top/build/ngx_rooms_module.so";

unless ($ENV{TEST_NGINX_ROOMS_DIR}) {
    $ENV{TEST_NGINX_ROOMS_DIR} = tempdir('rooms-t-XXXXXX', TMPDIR => 1,
                                         CLEANUP => 1);
    # the workers drop to nobody when the suite runs as root
    chmod 0777, $ENV{TEST_NGINX_ROOMS_DIR};
}

our $HttpConfig = <<'_EOC_';
    rooms_zone   rooms:1m;
    rooms_store  $TEST_NGINX_ROOMS_DIR/rooms.db;
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

    for my $section (qw(request more_headers response_body
                        response_body_like response_headers error_log))
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

# helpers for suites that drive nginx from a response-body check

sub http {
    my ($method, $path, %opt) = @_;
    require IO::Socket::INET;
    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $ENV{TEST_NGINX_SERVER_PORT} || 1984,
        Proto => 'tcp', Timeout => 10) or return (0, {}, '');
    my $body = defined $opt{json} ? encode_json($opt{json}) : '';
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
            . "Connection: close\r\n";
    $req .= "Content-Type: application/json\r\n" if length $body;
    $req .= "Content-Length: " . length($body) . "\r\n" if length $body;
    $req .= "Authorization: Bearer $opt{key}\r\n" if $opt{key};
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
