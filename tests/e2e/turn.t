# A call through TURN: coturn in the test's network namespace, the
# browsers' own UDP to the media worker dropped by nftables; see turn.mjs.
use strict;
use warnings;
use File::Basename qw(dirname);
use lib dirname(__FILE__);
use Scenario;

# the scenario is missing one program the run needs: say which
for my $p (qw(turnserver nft)) {
    if (system("command -v $p >/dev/null 2>&1") != 0) {
        print "1..1\nnot ok 1 - the TURN test can run\n"
            . "# missing: $p (scripts/deps.sh installs coturn and nftables)\n";
        exit 1;
    }
}

Scenario::run('turn.mjs', 150);
