# Two nginx workers share one room directory: concurrent creates all land,
# with distinct codes, readable from every worker; racing changes to one
# room serialize (one rotation wins, the rest see 410); every worker and
# the store agree afterwards.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use RoomsTest;
use RoomsStore;

master_on();
workers(2);
no_root_location();
no_shuffle();

# a second listener with reuseport: the kernel spreads its connections over
# both workers, so both really serve the race
our $Port2 = $ENV{TEST_NGINX_ROOMS_PORT2} ||= server_port() + 7;
our $Db = $ENV{TEST_NGINX_ROOMS_STORE};

sub call {
    my ($method, $path, %opt) = @_;
    local $ENV{TEST_NGINX_SERVER_PORT} = $Port2;
    return RoomsTest::http($method, $path, %opt);
}

# runs $n clients at once, each calling $work->($i); returns their results
sub race {
    my ($n, $work) = @_;
    my @pipes;
    for my $i (0 .. $n - 1) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            close $r;
            print $w join("\n", $work->($i)), "\n";
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @pipes, [$pid, $r];
    }
    my @out;
    for my $p (@pipes) {
        my $fh = $p->[1];
        push @out, map { chomp; $_ } <$fh>;
        waitpid $p->[0], 0;
    }
    return @out;
}

sub sql {
    my $q = shift;
    my $out = store_query($Db, $q);
    chomp $out;
    return $out;
}

add_response_body_check(sub {
    my ($block) = @_;
    return unless $block->name =~ /race/;
    require POSIX;

    # 1. 8 clients x 10 creates at once
    my @created = race(8, sub {
        map {
            my ($st, $h, $j) = call('POST', '/api/rooms',
                                    json => { title => "room $_[0].$_" });
            join ' ', $st, (ref $j ? $j->{code} : '-'), $h->{'x-worker'} // '-';
        } 1 .. 10;
    });
    is(scalar(grep { /^201 / } @created), 80, 'all 80 concurrent creates: 201');
    my %codes = map { (split ' ')[1] => 1 } @created;
    is(scalar(keys %codes), 80, '80 distinct codes');
    my %workers = map { (split ' ')[2] => 1 } @created;
    cmp_ok(scalar(keys %workers), '>=', 2, 'both workers created rooms');

    my $list = join ',', map { "'$_'" } keys %codes;
    is(sql("SELECT count(*) FROM rooms WHERE code IN ($list)"), 80,
       'all 80 are in the SQLite file');

    # 2. every room readable, whichever worker answers
    my @read = race(4, sub {
        my $i = shift;
        map {
            my ($st, $h) = call('GET', "/api/rooms/$_");
            "$st " . ($h->{'x-worker'} // '-');
        } (sort keys %codes)[$i * 20 .. $i * 20 + 19];
    });
    is(scalar(grep { /^200 / } @read), 80, 'all 80 rooms read back');

    # 3. ten rotations of one room race: exactly one wins
    my ($st, $h, $room) = call('POST', '/api/rooms', json => {});
    is($st, 201, 'a room to race on');
    my @rot = race(10, sub {
        my ($s, $hh, $j) = call('POST', "/api/rooms/$room->{code}/invite",
                                key => $room->{host_key});
        return "$s " . (ref $j && $j->{code} ? $j->{code} : '-');
    });
    my @won = grep { /^200 / } @rot;
    is(scalar(@won), 1, 'one rotation wins');
    is(scalar(grep { /^410 / } @rot), 9, 'the other nine see 410 Gone');
    my $new = (split ' ', $won[0] // '- -')[1];
    is(sql("SELECT code FROM rooms WHERE id = (SELECT room_id FROM "
           . "retired_codes WHERE code = '$room->{code}')"), $new,
       'the store has the winning code');

    # 4. twenty titles race; afterwards every worker and the file agree
    race(20, sub {
        my ($s) = call('PATCH', "/api/rooms/$new",
                       json => { title => "title $_[0]" },
                       key => $room->{host_key});
        return $s;
    });
    my $stored = sql("SELECT title FROM rooms WHERE code = '$new'");
    like($stored, qr/^title \d+$/, "the store has one of the titles");
    my @seen = race(6, sub {
        map {
            my ($s, $hh, $j) = call('GET', "/api/rooms/$new");
            ref $j ? $j->{title} : '-';
        } 1 .. 5;
    });
    is(scalar(grep { $_ eq $stored } @seen), 30,
       'all 30 reads on both workers show the stored title');
});

run_tests();

__DATA__

=== TEST 1: race creates and changes on two workers
--- http_config eval
qq{
    rooms_zone   rooms:1m;
    rooms_store  $::Db;

    server {
        listen 127.0.0.1:$::Port2 reuseport;
        location / {
            rooms;
            add_header X-Worker \$pid always;
        }
    }
}
--- request
GET /
--- error_code: 200
--- no_error_log
[alert]
[crit]
[emerg]
