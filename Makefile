# ngx_rooms: `make run` and `make test` (see README.md).
#
# The module is built as a dynamic .so against the distro's nginx, using the
# headers and exact configure flags Debian ships in nginx-dev; nginx itself
# is never rebuilt.

SHELL      := /bin/bash
PORT       ?= 8080
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
# the media worker's sans-IO cores: everything but its event loop (main.c)
CORE_SRC   := $(filter-out worker/main.c,$(wildcard worker/*.c))
CORE_HDR   := $(wildcard worker/*.h)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNITS      := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
SRTP_LIB   := $(BUILD)/deps/lib/libsrtp2.a
UNIT_LIBS  := $(SRTP_LIB) -lsqlite3 -ljansson -lssl -lcrypto

.PHONY: all deps module units worker e2e-deps test run bench fuzz clean layers

all: deps module units worker e2e-deps

# the media worker: its event loop (worker/main.c) and every core
WORKER     := $(BUILD)/rooms-worker

worker: deps $(WORKER)

$(WORKER): worker/main.c $(CORE_SRC) $(CORE_HDR) $(COMMON_SRC) $(COMMON_HDR) \
           | $(SRTP_LIB)
	$(CC) $(CFLAGS) $(WARN) -Icommon -Iworker -I$(BUILD)/deps/include \
	    -o $@.tmp worker/main.c $(CORE_SRC) $(COMMON_SRC) $(UNIT_LIBS)
	mv -f $@.tmp $@

# npm packages of the browser tests (tests/e2e/package.json), when present
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

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(COMMON_SRC) $(COMMON_HDR) \
                  $(CORE_SRC) $(CORE_HDR) | $(SRTP_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -Icommon -Iworker -Itests/unit \
	    -I$(BUILD)/deps/include -o $@ $< \
	    $(COMMON_SRC) $(CORE_SRC) $(UNIT_LIBS)

$(BUILD):
	mkdir -p $@

# every suite in one prove run, ending with prove's summary
test: all
	prove -I t/lib/harness -I t/lib $(UNITS) t/ $(wildcard tests/e2e/*.t)

# each source file's "May not:" contract against its includes and calls
layers:
	@sh scripts/layers.sh

# benchmarks print figures and ratios; they never pass or fail on time
BENCH_SRC  := $(wildcard tests/bench/bench_*.c)
BENCHES    := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

bench: deps $(SRTP_LIB) $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

$(BUILD)/bench/%: tests/bench/%.c $(COMMON_SRC) $(COMMON_HDR) $(CORE_SRC) \
                  $(CORE_HDR) | $(SRTP_LIB)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(WARN) -Icommon -Iworker -I$(BUILD)/deps/include -o $@ $< \
	    $(COMMON_SRC) $(CORE_SRC) $(UNIT_LIBS)

# coverage-guided fuzzing with clang's libFuzzer: FUZZ_SECONDS per target
FUZZ_SECONDS ?= 30
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

fuzz: deps $(SRTP_LIB) $(FUZZERS)
	@for f in $(FUZZERS); do \
	    echo "== $$f ($(FUZZ_SECONDS) s)"; mkdir -p $$f.corpus; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $$f.corpus 2>&1 | grep -E "stat::number_of_executed_units|ERROR|SUMMARY" \
	        || exit 1; \
	done

$(BUILD)/fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(COMMON_HDR) $(CORE_SRC) \
                 $(CORE_HDR) | $(SRTP_LIB)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Iworker \
	    -I$(BUILD)/deps/include -o $@ $< $(COMMON_SRC) $(CORE_SRC) \
	    $(UNIT_LIBS)

run: all
	PORT=$(PORT) sh scripts/run.sh

clean:
	rm -rf $(BUILD) run
