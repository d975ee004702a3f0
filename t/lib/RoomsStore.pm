package RoomsStore;

# The suites' store, on either engine: an SQLite file by default, a
# PostgreSQL database under `make test-pg` (scripts/pg-cluster.sh runs the
# suites with ROOMS_TEST_PGHOST, the folder of a throwaway cluster's
# socket).  A suite never names the engine to reach its store: it takes
# the store's address from store_new() or $ENV{TEST_NGINX_ROOMS_STORE}
# (what a block's "rooms_store" says) and reads it with store_query().
#
# - store_new($name): a new empty store for this suite: SQLite
#   "$TEST_NGINX_ROOMS_DIR/$name.db" (the name is the caller's to keep
#   unique),
#   PostgreSQL a new database t_<suite>_<pid>_<name>, dropped at exit;
# - store_of($dir): the suite's store for a folder a suite made itself
#   ($dir/rooms.db on SQLite; on PostgreSQL the suite's database);
# - store_query($store, $sql): the rows, one a line, columns joined by
#   "|" (sqlite3's and "psql -A -t -F'|'"'s shape), $? set as the tool
#   left it; waits up to 2 s for SQLite's write lock;
# - store_reset($store): empty again (nginx using it must be stopped);
# - store_blob($hex), store_hex($column): a blob literal and a blob
#   column as upper-case hex, in the suite's engine's SQL;
# - store_lock($store): another program holds the store's write lock
#   (SQLite: the sqlite3 shell in BEGIN EXCLUSIVE; PostgreSQL: psql in a
#   transaction holding the advisory lock rooms_db_begin() takes), kept
#   until store_unlock($lock); store_locked($store): 1 while somebody
#   holds it;
# - store_pg(): 1 under PostgreSQL, for the few checks that differ (a
#   SQLite file's PRAGMA, an engine's own faults).

use strict;
use warnings;

use feature 'state';

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use IO::Handle;
use POSIX ();

our @EXPORT = qw(store_new store_of store_query store_reset store_pg
                 store_blob store_hex store_lock store_unlock store_locked);

my $PgHost = $ENV{ROOMS_TEST_PGHOST};
my %Mine;            # PostgreSQL databases this process made => 1
my $Owner = $$;      # (a forked child's exit drops none of them)

sub store_pg { $PgHost ? 1 : 0 }

# psql on a URI, or on a database of the suites' cluster by its name
sub psql {
    my ($db, @args) = @_;
    my $uri = $db =~ m{://} ? $db : "postgresql://rooms@/$db?host=$PgHost";
    # (no NOTICE lines in the suites' output)
    local $ENV{PGOPTIONS} = '-c client_min_messages=warning';
    open my $out, '-|', 'psql', '-X', '-q', '-A', '-t', '-F', '|',
        '-v', 'ON_ERROR_STOP=1', '-d', $uri, @args
        or die "psql: $!";
    local $/;
    my $rows = <$out> // '';
    close $out;
    return $rows;
}

sub suite_name {
    my $n = $0;
    $n =~ s{.*/}{};
    $n =~ s/\.t$//;
    $n =~ s/\W/_/g;
    return lc substr($n, 0, 30);
}

sub pg_db_of {
    my ($store) = @_;
    my ($db) = $store =~ m{^postgres(?:ql)?://[^/]*/(\w+)}
        or die "not a PostgreSQL store: $store\n";
    return $db;
}

sub store_new {
    my ($name) = @_;
    $name //= 'rooms';
    if (!$PgHost) {
        return "$ENV{TEST_NGINX_ROOMS_DIR}/$name.db";
    }
    my $db = 't_' . suite_name() . "_$$" . "_$name";
    psql('postgres', '-c', "DROP DATABASE IF EXISTS $db WITH (FORCE)",
         '-c', "CREATE DATABASE $db");
    die "cannot create the database $db\n" if $?;
    $Mine{$db} = 1;
    return "postgresql://rooms@/$db?host=$PgHost";
}

sub store_of {
    my ($dir) = @_;
    return $PgHost ? $ENV{TEST_NGINX_ROOMS_STORE} : "$dir/rooms.db";
}

sub store_query {
    my ($store, $sql) = @_;
    if (is_pg($store)) {
        return psql($store, '-c', $sql);
    }
    open my $out, '-|', 'sqlite3', '-cmd', '.timeout 2000', $store, $sql
        or die "sqlite3: $!";
    local $/;
    my $rows = <$out> // '';
    close $out;
    return $rows;
}

sub store_blob {
    my ($hex) = @_;
    return $PgHost ? "'\\x$hex'::bytea" : "X'$hex'";
}

sub store_hex {
    my ($col) = @_;
    return $PgHost ? "upper(encode($col, 'hex'))" : "hex($col)";
}

# the key of rooms_db_begin()'s advisory lock on PostgreSQL, as the
# engine's sources (common/rooms_db_pg*) define it
sub pg_lock_key {
    state $key = do {
        my $common = abs_path(dirname(__FILE__) . '/../../common');
        local (@ARGV, $/) = glob "$common/rooms_db_pg*.[ch]";
        my $k;
        while (my $src = <>) {
            ($k) = $src =~ /#define\s+ROOMS_DB_PG_LOCK_KEY\s+"(\d+)"/
                and last;
        }
        $k // die "no ROOMS_DB_PG_LOCK_KEY in $common/rooms_db_pg*\n";
    };
    return $key;
}

sub is_pg { $_[0] =~ m{^postgres(?:ql)?://} }

sub store_lock {
    my ($store) = @_;
    pipe my $r, my $w or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $w;
        open STDIN, '<&', $r or POSIX::_exit(127);
        open STDOUT, '>', '/dev/null';
        if (is_pg($store)) {
            exec('psql', '-X', '-q', '-d', $store) or POSIX::_exit(127);
        }
        exec('sqlite3', $store) or POSIX::_exit(127);
    }
    close $r;
    $w->autoflush(1);
    # the program waits for a writer of the moment (a busy nginx) to finish
    print $w is_pg($store)
        ? "SET lock_timeout = '10s';\nBEGIN;\n"
          . 'SELECT pg_advisory_xact_lock(' . pg_lock_key() . ");\n"
        : ".timeout 10000\nBEGIN EXCLUSIVE;\nDELETE FROM bans;\n";
    return { pid => $pid, fh => $w };
}

sub store_unlock {
    my ($lock) = @_;
    close $lock->{fh};
    waitpid $lock->{pid}, 0;
}

sub store_locked {
    my ($store) = @_;
    if (is_pg($store)) {
        # (taken and let go at once when it is free)
        return store_query($store, 'SELECT pg_try_advisory_xact_lock('
                                   . pg_lock_key() . ')') =~ /^f/ ? 1 : 0;
    }
    return `sqlite3 -cmd '.timeout 0' '$store' 'BEGIN IMMEDIATE' 2>&1`
        =~ /locked/ ? 1 : 0;
}

sub store_reset {
    my ($store) = @_;
    if (is_pg($store)) {
        my $db = pg_db_of($store);
        psql('postgres', '-c', "DROP DATABASE IF EXISTS $db WITH (FORCE)",
             '-c', "CREATE DATABASE $db");
        die "cannot reset the database $db\n" if $?;
        return;
    }
    unlink $store, "$store-wal", "$store-shm", "$store-journal";
}

END {
    return unless $$ == $Owner;
    my $status = $?;
    psql('postgres', '-c', "DROP DATABASE IF EXISTS $_ WITH (FORCE)")
        for sort keys %Mine;
    $? = $status;
}

1;
