# ngx_rooms: `make run` and `make test` (see README.md).
#
# The module is built as a dynamic .so against the distro's nginx, using the
# headers and exact configure flags Debian ships in nginx-dev; nginx itself
# is never rebuilt.

SHELL      := /bin/bash
PORT       ?= 8080
# make run TLS=1: https with a certificate of its own (scripts/run.sh)
TLS        ?= 0
BUILD      := build
NGX_SRC    := /usr/share/nginx/src
NGX_BUILD  := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_rooms_module.so

CC         ?= cc
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -Wno-unused-parameter
COMMON_SRC := $(wildcard common/*.c)
COMMON_HDR := $(wildcard common/*.h)
MODULE_SRC := $(wildcard ngx_rooms_module/*.c ngx_rooms_module/*.h)
WEB        := $(wildcard ngx_rooms_module/web/*)
# the media worker's event-loop side: every system call and clock reading
LOOP_SRC   := $(filter $(addprefix worker/,main.c loop.c udp.c link.c tcp.c \
                                 workers.c), \
                       $(wildcard worker/*.c))
# the media worker's sans-IO cores: everything else in worker/
CORE_SRC   := $(filter-out $(LOOP_SRC),$(wildcard worker/*.c))
CORE_HDR   := $(wildcard worker/*.h)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNITS      := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# helpers shared by several unit tests (tests/unit/*.c not named test_*)
UHELP_SRC  := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
SRTP_LIB   := $(BUILD)/deps/lib/libsrtp2.a
# libpq (Debian's libpq-dev): the store's PostgreSQL engine
PG_INC     := $(or $(shell pg_config --includedir 2>/dev/null),/usr/include/postgresql)
UNIT_LIBS  := $(SRTP_LIB) -lsqlite3 -lpq -ljansson -lssl -lcrypto

# Every source is compiled once into $(OBJ) (header dependencies from
# -MMD), then archived: the cores and common/ into libroomscore.a, the
# event-loop side but main() into libroomsloop.a, the unit tests' shared
# helpers into libroomstest.a.  The worker, the unit tests and the bench
# link these, so a one-line change recompiles one object and relinks.
OBJ        := $(BUILD)/obj
CFLAGS_ALL := $(CFLAGS) $(WARN) -MMD -MP -Icommon -Iworker -Itests/unit \
              -I$(BUILD)/deps/include -I$(PG_INC)
CORE_OBJ   := $(patsubst %.c,$(OBJ)/%.o,$(CORE_SRC) $(COMMON_SRC))
LOOP_OBJ   := $(patsubst %.c,$(OBJ)/%.o,$(filter-out worker/main.c,$(LOOP_SRC)))
UHELP_OBJ  := $(patsubst %.c,$(OBJ)/%.o,$(UHELP_SRC))
CORE_LIB   := $(BUILD)/libroomscore.a
LOOP_LIB   := $(BUILD)/libroomsloop.a
UHELP_LIB  := $(BUILD)/libroomstest.a

.PHONY: all deps module units worker relay e2e-deps test test-pg run bench fuzz clean layers \
        sanitize sanitize-build load load-build jointime deb

all: deps module units worker relay e2e-deps load-build

$(OBJ)/%.o: %.c | $(SRTP_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

-include $(wildcard $(OBJ)/*/*.d $(OBJ)/*/*/*.d \
                    $(BUILD)/fuzz/obj/*.d $(BUILD)/fuzz/obj/*/*.d \
                    $(BUILD)/asan/obj/*/*.d $(BUILD)/asan/obj/*/*/*.d)

$(CORE_LIB): $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(LOOP_LIB): $(LOOP_OBJ)
	rm -f $@ && ar rcs $@ $^

$(UHELP_LIB): $(UHELP_OBJ)
	rm -f $@ && ar rcs $@ $(UHELP_OBJ)

# the media worker: its event loop and the cores it calls.  No store
# (SQLite) or WebSocket code: nothing it links refers to them, and the
# link has no -lsqlite3 to satisfy them.
WORKER     := $(BUILD)/rooms-worker
WORKER_LIBS := $(SRTP_LIB) -ljansson -lssl -lcrypto

worker: deps $(WORKER)

$(WORKER): $(OBJ)/worker/main.o $(LOOP_LIB) $(CORE_LIB) | $(SRTP_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@.tmp $(OBJ)/worker/main.o $(LOOP_LIB) \
	    $(CORE_LIB) $(WORKER_LIBS)
	mv -f $@.tmp $@

# npm packages of the browser tests (tests/e2e/package.json), when present
# the userspace impairment relay of the browser tests (this kernel has no
# netem): loss, delay and a bandwidth limit per client and direction
RELAY      := $(BUILD)/rooms-relay

relay: $(RELAY)

$(RELAY): tests/relay/rooms-relay.c | $(BUILD)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

e2e-deps:
	@if [ -f tests/e2e/package.json ] && [ ! -d tests/e2e/node_modules ]; \
	then cd tests/e2e && npm ci --no-audit --no-fund; fi

deps:
	@sh scripts/deps.sh

module: deps $(MODULE)

# ./configure runs again whenever the addon's config or embedded web files
# change (the web client is generated into objs/ at configure time)
$(NGX_BUILD)/objs/Makefile: config $(WEB) | $(BUILD)
	rm -rf $(NGX_BUILD)
	cp -r $(NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(CURDIR) > configure.log 2>&1 || \
	    { tail -30 configure.log; exit 1; }

$(MODULE): $(NGX_BUILD)/objs/Makefile $(MODULE_SRC) $(COMMON_SRC) $(COMMON_HDR)
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules
	# a new inode: nginx processes running the old .so keep their mapping
	cp $(NGX_BUILD)/objs/ngx_rooms_module.so $@.tmp && mv -f $@.tmp $@

units: deps $(SRTP_LIB) $(UNITS)

# libsrtp2 against OpenSSL, from Debian's source package (scripts/srtp.sh)
$(SRTP_LIB):
	sh scripts/srtp.sh

# a unit test: its own object (kept: not an intermediate) linked against
# the libraries
.SECONDARY: $(patsubst %.c,$(OBJ)/%.o,$(UNIT_SRC))

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(CORE_LIB) $(LOOP_LIB) $(UHELP_LIB) \
                  | $(SRTP_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(UHELP_LIB) $(LOOP_LIB) $(CORE_LIB) \
	    $(UNIT_LIBS)

$(BUILD):
	mkdir -p $@

# every suite in one prove run, ending with prove's summary; the unit
# tests twice, the second time built with ASan and UBSan, and
# tests/sanitize.t (a short run of every fuzz target, the media worker
# built with both, started and stopped); tests/deb.t installs and purges
# the packages of `make deb`
test: all layers sanitize-build deb
	$(SAN_ENV) ROOMS_TEST_PG_FAULTS=1 prove -I t/lib/harness -I t/lib $(UNITS) $(ASAN_UNITS) \
	    tests/sanitize.t t/ tests/deb.t tests/relay/test_relay.sh tests/load/load.t \
	    $(wildcard tests/e2e/*.t)

# the unit tests and the Test::Nginx suites again, the store on
# PostgreSQL (README "Tests"): a throwaway cluster for the run
# (scripts/pg-cluster.sh), each unit test with a new database of its own
# in ROOMS_TEST_PG (the unit tests that read it: the others never touch
# a store), each suite with one in $$TEST_NGINX_ROOMS_STORE
# (t/lib/RoomsStore.pm); then PG_E2E, browser suites (one at a time
# machine-wide: the browser lock), each with a database of its own.
# PG_UNITS, PG_SUITES and PG_E2E choose others.
PG_UNITS   ?= $(patsubst tests/unit/%.c,$(BUILD)/tests/%, \
                         $(shell grep -l ROOMS_TEST_PG $(UNIT_SRC)))
PG_SUITES  ?= t/
# (the browser suites whose rooms live in the store: a call, hosts'
# actions, co-hosts, the lobby, scheduled rooms, the tray of people)
PG_E2E     ?= $(addprefix tests/e2e/,first-call.t host-controls.t cohost.t \
                                     lobby.t schedule.t tray.t)

test-pg: all layers
	sh scripts/pg-cluster.sh run sh -c 'st=0; \
	    $(if $(strip $(PG_UNITS)),prove --exec "sh scripts/pg-cluster.sh fresh" \
	        $(PG_UNITS) || st=1;) \
	    $(if $(strip $(PG_SUITES)),prove -I t/lib/harness -I t/lib \
	        $(PG_SUITES) || st=1;) \
	    $(if $(strip $(PG_E2E)),flock /tmp/rooms-browser.lock prove $(PG_E2E) \
	        || st=1;) exit $$st'

# each source file's "May not:" contract against its includes and calls
layers:
	@sh scripts/layers.sh

# benchmarks print figures and ratios; they never pass or fail on time
BENCH_SRC  := $(wildcard tests/bench/bench_*.c)
BENCHES    := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

bench: deps $(SRTP_LIB) $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

# (bench_udp measures the event loop's UDP side too: $(LOOP_LIB))
$(BUILD)/bench/%: tests/bench/%.c $(CORE_LIB) $(LOOP_LIB) | $(SRTP_LIB)
	@mkdir -p $(dir $@) $(OBJ)/bench
	$(CC) -O2 -g $(WARN) -MMD -MP -MT $@ -MF $(OBJ)/bench/$*.d -Icommon -Iworker \
	    -I$(BUILD)/deps/include -I$(PG_INC) -o $@ $< $(LOOP_LIB) $(CORE_LIB) \
	    $(UNIT_LIBS)

# the join time of ngx_rooms and of Janus VideoRoom, in Chromium, run
# alternately (docs/join-time.md): tests/janus/janus.sh installs Janus if
# it is missing and runs the bench in its network namespace; the browser
# lock keeps it alone with the other browser runs.  JOIN_REPS rooms of
# each of JOIN_SIZES participants; JOIN_BASE_WORKER and JOIN_BASE_MODULE
# (from the environment) add another build, run in turn as "before".
JOIN_REPS  ?= 5
JOIN_SIZES ?= 3 5

jointime: deps module worker e2e-deps
	JOIN_REPS=$(JOIN_REPS) JOIN_SIZES="$(JOIN_SIZES)" \
	    flock /tmp/rooms-browser.lock sh tests/janus/janus.sh -- \
	    node tests/e2e/join-time.mjs --bench

# coverage-guided fuzzing with clang's libFuzzer: FUZZ_SECONDS per target,
# each on its corpus $(BUILD)/fuzz/<target>.corpus (written to), seeded
# from tests/fuzz/corpus/<target>/ when there is one; a crash, leak or
# failed property stops the run, its input in $(BUILD)/fuzz/<target>-*
FUZZ_SECONDS ?= 30
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

fuzz: deps $(SRTP_LIB) $(FUZZERS)
	@set -o pipefail; for f in $(FUZZERS); do \
	    n=$$(basename $$f); \
	    echo "== $$f ($(FUZZ_SECONDS) s)"; mkdir -p $$f.corpus; \
	    if [ -d tests/fuzz/corpus/$$n ]; then \
	        cp -p tests/fuzz/corpus/$$n/* $$f.corpus/; fi; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$$f- $$f.corpus 2>&1 \
	        | grep -E "stat::number_of_executed_units|ERROR|SUMMARY|property|runtime error" \
	        || exit 1; \
	done

# fuzzers are built with clang and sanitizers: their own objects, once
FUZZ_OBJ   := $(BUILD)/fuzz/obj
FUZZ_FLAGS := -g -O1 -MMD -MP -Icommon -Iworker -I$(BUILD)/deps/include \
              -I$(PG_INC)
FUZZ_CORE  := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(CORE_SRC) $(COMMON_SRC))
FUZZ_LIB   := $(BUILD)/fuzz/libroomscore.a

$(FUZZ_OBJ)/%.o: %.c | $(SRTP_LIB)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined \
	    -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_CORE)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) | $(SRTP_LIB)
	@mkdir -p $(dir $@) $(FUZZ_OBJ)
	clang $(FUZZ_FLAGS) -MT $@ -MF $(FUZZ_OBJ)/$*.d \
	    -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIB) \
	    $(UNIT_LIBS)

# AddressSanitizer and UndefinedBehaviorSanitizer: the unit tests and the
# media worker built again with both, from their own objects in
# $(ASAN)/obj (the normal objects are untouched), and run by prove with
# the options below; an error aborts the binary (halt_on_error, and
# -fno-sanitize-recover, so it holds without them too), a leak at exit is
# a failure.  tests/sanitize.t also runs every fuzz target (libFuzzer,
# ASan and UBSan too) for SANITIZE_FUZZ_SECONDS on its seed corpus.
ASAN       := $(BUILD)/asan
ASAN_OBJ   := $(ASAN)/obj
SAN_FLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined
ASAN_CORE  := $(patsubst %.c,$(ASAN_OBJ)/%.o,$(CORE_SRC) $(COMMON_SRC))
ASAN_LOOP  := $(patsubst %.c,$(ASAN_OBJ)/%.o, \
                         $(filter-out worker/main.c,$(LOOP_SRC)))
ASAN_UHELP := $(patsubst %.c,$(ASAN_OBJ)/%.o,$(UHELP_SRC))
ASAN_UNITS := $(patsubst tests/unit/%.c,$(ASAN)/tests/%,$(UNIT_SRC))
ASAN_WORKER := $(ASAN)/rooms-worker
SANITIZE_FUZZ_SECONDS ?= 5
SAN_ENV    := ASAN_OPTIONS=detect_leaks=1:$(ASAN_OPTIONS) \
              UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:$(UBSAN_OPTIONS) \
              SANITIZE_FUZZ_SECONDS=$(SANITIZE_FUZZ_SECONDS)

.SECONDARY: $(patsubst %.c,$(ASAN_OBJ)/%.o,$(UNIT_SRC) worker/main.c)

$(ASAN_OBJ)/%.o: %.c | $(SRTP_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) $(WARN) -MMD -MP -Icommon -Iworker -Itests/unit \
	    -I$(BUILD)/deps/include -I$(PG_INC) -c -o $@ $<

$(ASAN)/libroomscore.a: $(ASAN_CORE)
	rm -f $@ && ar rcs $@ $^

$(ASAN)/libroomsloop.a: $(ASAN_LOOP)
	rm -f $@ && ar rcs $@ $^

$(ASAN)/libroomstest.a: $(ASAN_UHELP)
	rm -f $@ && ar rcs $@ $(ASAN_UHELP)

$(ASAN)/tests/%: $(ASAN_OBJ)/tests/unit/%.o $(ASAN)/libroomscore.a \
                 $(ASAN)/libroomsloop.a $(ASAN)/libroomstest.a | $(SRTP_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $< $(ASAN)/libroomstest.a $(ASAN)/libroomsloop.a \
	    $(ASAN)/libroomscore.a $(UNIT_LIBS)

$(ASAN_WORKER): $(ASAN_OBJ)/worker/main.o $(ASAN)/libroomsloop.a \
                $(ASAN)/libroomscore.a | $(SRTP_LIB)
	$(CC) $(SAN_FLAGS) -o $@.tmp $(ASAN_OBJ)/worker/main.o \
	    $(ASAN)/libroomsloop.a $(ASAN)/libroomscore.a $(WORKER_LIBS)
	mv -f $@.tmp $@

# the module built again with both sanitizers, from a copy of the
# configured nginx tree (its own objects), for Debian's nginx with the
# sanitizer runtimes preloaded (tests/sanitize.t: t/002 and t/003)
ASAN_NGX    := $(ASAN)/nginx
ASAN_MODULE := $(ASAN)/ngx_rooms_module.so

$(ASAN_NGX)/objs/Makefile: $(NGX_BUILD)/objs/Makefile
	rm -rf $(ASAN_NGX) && mkdir -p $(ASAN)
	cp -r $(NGX_BUILD) $(ASAN_NGX)
	find $(ASAN_NGX)/objs -name '*.o' -delete
	rm -f $(ASAN_NGX)/objs/*.so

$(ASAN_MODULE): $(ASAN_NGX)/objs/Makefile $(MODULE_SRC) $(COMMON_SRC) \
                $(COMMON_HDR)
	cflags=$$(sed -n 's/^CFLAGS = //p' $(ASAN_NGX)/objs/Makefile); \
	$(MAKE) -C $(ASAN_NGX) -f objs/Makefile modules \
	    CFLAGS="$$cflags $(SAN_FLAGS)"
	cp $(ASAN_NGX)/objs/ngx_rooms_module.so $@.tmp && mv -f $@.tmp $@

sanitize-build: deps $(SRTP_LIB) $(ASAN_UNITS) $(ASAN_WORKER) $(FUZZERS) \
                $(ASAN_MODULE)

sanitize: sanitize-build
	$(SAN_ENV) prove $(ASAN_UNITS) tests/sanitize.t

# Debian packages (debian/): libnginx-mod-rooms and rooms-worker, built by
# dpkg-buildpackage from a copy of the sources (scripts/deb.sh), checked
# by lintian, into $(DEB_DIR)
DEB_DIR    := $(BUILD)/deb
DEB_VER    := $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
DEB_ARCH   := $(shell dpkg --print-architecture 2>/dev/null)
DEBS       := $(DEB_DIR)/libnginx-mod-rooms_$(DEB_VER)_$(DEB_ARCH).deb \
              $(DEB_DIR)/rooms-worker_$(DEB_VER)_$(DEB_ARCH).deb

deb: deps $(DEBS)

$(DEBS) &: $(wildcard debian/* debian/*/*) config Makefile $(MODULE_SRC) \
           $(COMMON_SRC) $(COMMON_HDR) $(WEB) $(LOOP_SRC) $(CORE_SRC) \
           $(CORE_HDR) | $(SRTP_LIB)
	sh scripts/deb.sh $(DEB_DIR)

# rooms-load: many participants with real media through nginx and the
# media worker (tests/load/, docs/performance.md).  `make load` builds it
# and runs SCENARIO (room50, rooms2x25, rooms2x50, storm50, loss50, or all) in a
# network namespace of its own, then the same on Janus VideoRoom
# (JANUS=0 skips it), printing one table with both and their ratios.
LOAD       := $(BUILD)/rooms-load
LOAD_SRC   := $(wildcard tests/load/*.c)
LOAD_OBJ   := $(patsubst %.c,$(OBJ)/%.o,$(LOAD_SRC))
LOAD_LIBS  := $(SRTP_LIB) -ljansson -lssl -lcrypto -lvpx -lopus -lm
SCENARIO   ?= room50
JANUS      ?= 1

load-build: deps $(LOAD)

$(LOAD): $(LOAD_OBJ) $(CORE_LIB) | $(SRTP_LIB)
	$(CC) $(CFLAGS) -o $@.tmp $(LOAD_OBJ) $(CORE_LIB) $(LOAD_LIBS)
	mv -f $@.tmp $@

load: all
	sh tests/load/run.sh $(if $(filter 1,$(JANUS)),--janus) $(SCENARIO)

run: all
	PORT=$(PORT) TLS=$(TLS) sh scripts/run.sh

clean:
	rm -rf $(BUILD) run
