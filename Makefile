# memscope build. Sources are discovered by directory, so adding a .c file
# needs no edit here:
#   format/*.c            -> libmsformat.a (internal; also inside libmemscope)
#   recorder/lib/*.c      -> libmemscope.so / libmemscope.a (+ format)
#   recorder/msrec/*.c recorder/snapshot/*.c -> bin/msrec
#   recorder/symbolize/*.c -> libmssym.a (libdw symbolizer; msrec, msconv)
#   analyze/*.c           -> libmsanalyze.a (internal)
#   convert/common/*.c    -> linked into msconv and msdiff
#   convert/msconv/*.c    -> bin/msconv
#   convert/msdiff/*.c    -> bin/msdiff
#   tests/unit/*.c        -> one test binary each (build/tests/NAME)
#   tests/progs/*.c|*.cc  -> test programs run under the recorder
# SAN=1 builds with ASan+UBSan (used by `make test` into build/asan).

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CXX     ?= c++
SAN     ?=

WARN    := -Wall -Wextra -Werror -Wno-error=unused-parameter
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g -O2 -fPIC $(WARN) -Iformat -I$(BUILD)/include -Ianalyze -Iconvert/common -Irecorder/symbolize -MMD -MP
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN := -fsanitize=address,undefined
endif
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)

LIBS_FORMAT   := -lzstd -lxxhash
LIBS_RECORDER := -lunwind -ldl -lpthread
LIBS_TOOLS    := -lcjson -lm -lpthread
LIBS_SYM      := -ldw -lelf -liberty -ldl

FORMAT_SRCS   := $(wildcard format/*.c)
LIB_SRCS      := $(wildcard recorder/lib/*.c)
SYM_SRCS      := $(wildcard recorder/symbolize/*.c)
MSREC_SRCS    := $(wildcard recorder/msrec/*.c recorder/snapshot/*.c)
ANALYZE_SRCS  := $(wildcard analyze/*.c)
CONVCOM_SRCS  := $(wildcard convert/common/*.c)
MSCONV_SRCS   := $(wildcard convert/msconv/*.c)
MSDIFF_SRCS   := $(wildcard convert/msdiff/*.c)
UNIT_SRCS     := $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

FORMAT_OBJS  := $(call obj,$(FORMAT_SRCS))
LIB_OBJS     := $(call obj,$(LIB_SRCS))
SYM_OBJS     := $(call obj,$(SYM_SRCS))
MSREC_OBJS   := $(call obj,$(MSREC_SRCS))
ANALYZE_OBJS := $(call obj,$(ANALYZE_SRCS))
CONVCOM_OBJS := $(call obj,$(CONVCOM_SRCS))
# templates/report.html embedded as a C array (convert/common/html.c).
GEN_HTML     := $(BUILD)/gen/report_html.c
CONVCOM_OBJS += $(BUILD)/obj/gen/report_html.o
MSCONV_OBJS  := $(call obj,$(MSCONV_SRCS))
# msconv --pprof: protobuf-c code generated from the profile.proto of
# Debian's golang-github-google-pprof-dev (convert/msconv/pprof_proto.c).
PPROF_PROTO  ?= /usr/share/gocode/src/github.com/google/pprof/proto/profile.proto
GEN_PPROF    := $(BUILD)/gen/profile.pb-c.c $(BUILD)/gen/profile.pb-c.h
MSCONV_OBJS  += $(BUILD)/obj/gen/profile.pb-c.o
LIBS_PPROF   := -lprotobuf-c -lz
MSDIFF_OBJS  := $(call obj,$(MSDIFF_SRCS))

HEADER   := $(BUILD)/include/memscope.h
LIBFMT   := $(BUILD)/lib/libmsformat.a
LIBANA   := $(BUILD)/lib/libmsanalyze.a
LIBSYM   := $(BUILD)/lib/libmssym.a
LIBSO    := $(BUILD)/lib/libmemscope.so
LIBA     := $(BUILD)/lib/libmemscope.a
BINS     := $(BUILD)/bin/msrec $(BUILD)/bin/msconv $(BUILD)/bin/msdiff
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all lib bins tests deps test test-fast test-real asan demo bench fuzz install clean help
all: $(HEADER) $(LIBSO) $(LIBA) $(BINS) $(BUILD)/lib/memscope.pc

help:
	@echo "make            build everything into $(BUILD)/"
	@echo "make deps       install missing Debian packages (apt-get)"
	@echo "make test       deps + build + all tests (+ ASan/UBSan build); ends with 'N passed, N failed'"
	@echo "make test-real  the real-program suite (tests/real) with 5x the repeat counts (REAL_SCALE=N)"
	@echo "make demo       deps + build + record an example + write every report"
	@echo "make bench      benchmarks against heaptrack, valgrind, smem"
	@echo "make fuzz       libFuzzer targets (clang)"
	@echo "make install PREFIX=/usr/local DESTDIR="

$(HEADER): format/memscope.h
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/obj/%.o: %.c $(HEADER)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The symbol cache's files name the symbolizer that made their answers:
# a change of mssym.c (how ips are named) makes the cached ones stale.
$(BUILD)/obj/recorder/symbolize/symcache.o: recorder/symbolize/mssym.c
$(BUILD)/obj/recorder/symbolize/symcache.o: ALL_CFLAGS += \
	-DMSSYM_SRC_ID=\"$(shell cksum recorder/symbolize/mssym.c 2>/dev/null | cut -d' ' -f1)\"

$(GEN_HTML): templates/report.html
	@mkdir -p $(dir $@)
	{ echo '/* generated from templates/report.html: do not edit */'; \
	  echo 'const unsigned char ms_report_html[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; \
	  echo "const unsigned long ms_report_html_len = $$(wc -c < $<);"; } > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/report_html.o: $(GEN_HTML)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/profile.pb-c.h: $(BUILD)/gen/profile.pb-c.c
$(BUILD)/gen/profile.pb-c.c: $(PPROF_PROTO)
	@mkdir -p $(dir $@)
	protoc-c --proto_path=$(dir $<) --c_out=$(dir $@) $<

$(BUILD)/obj/gen/profile.pb-c.o: $(GEN_PPROF)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/convert/msconv/pprof_proto.o: ALL_CFLAGS += -I$(BUILD)/gen
$(BUILD)/obj/convert/msconv/pprof_proto.o: $(BUILD)/gen/profile.pb-c.h

$(LIBFMT): $(FORMAT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBANA): $(ANALYZE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBSYM): $(SYM_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# -z nodelete: never unmapped by a dlclose (its writer thread runs on, and
# threads' rseq areas point at its descriptor: spec 8.2, control.c).
# -z now: no lazy binding inside a hook (the resolver saves the vector
# state and looks the symbol up: KiBs of a 16 KiB thread's stack)
$(LIBSO): $(LIB_OBJS) $(FORMAT_OBJS) recorder/exports.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libmemscope.so -Wl,-z,nodelete -Wl,-z,now -Wl,--version-script=recorder/exports.map $(LDSAN) -o $@ $(filter %.o,$^) $(LIBS_FORMAT) $(LIBS_RECORDER)

$(LIBA): $(LIB_OBJS) $(FORMAT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/msrec: $(MSREC_OBJS) $(LIBSYM) $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS_FORMAT) $(LIBS_SYM) $(LIBS_TOOLS)

$(BUILD)/bin/msconv: $(MSCONV_OBJS) $(CONVCOM_OBJS) $(LIBANA) $(LIBSYM) $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS_FORMAT) $(LIBS_SYM) $(LIBS_TOOLS) $(LIBS_PPROF)

$(BUILD)/bin/msdiff: $(MSDIFF_OBJS) $(CONVCOM_OBJS) $(LIBANA) $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS_FORMAT) $(LIBS_TOOLS)

# bin/msrec-static: `msrec snapshot` alone (recorder/static/main.c + the same
# recorder/snapshot/ code + format), linked fully static with libzstd.a and
# libxxhash.a, stripped: what tools/ansible and tools/memscope-remote.sh copy
# to hosts that have none of memscope's libraries. Not built with SAN=1.
STATIC_OBJS := $(call obj,recorder/static/main.c $(wildcard recorder/snapshot/*.c))
$(BUILD)/bin/msrec-static: $(STATIC_OBJS) $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) -static -s -o $@ $^ -Wl,--wrap=getpwuid $(LIBS_FORMAT) -lpthread
ifneq ($(SAN),1)
all: $(BUILD)/bin/msrec-static
endif

$(BUILD)/lib/memscope.pc: Makefile
	@mkdir -p $(dir $@)
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: memscope\nDescription: memscope heap recorder and .memscope format library\nVersion: 0.1.0\nLibs: -L$${libdir} -lmemscope\nLibs.private: -lzstd -lxxhash -lunwind -ldl -lpthread\nCflags: -I$${includedir}\n' '$(PREFIX)' > $@

# Unit tests: each tests/unit/NAME.c is a program linked with the format,
# analyze and convert-common libraries.
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(CONVCOM_OBJS) $(LIBANA) $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS_FORMAT) $(LIBS_TOOLS)

tests: all $(UNIT_BINS) $(BUILD)/bin/fuzz-replay $(BUILD)/bin/fuzz-replay-msconv $(BUILD)/bin/fuzz-replay-msdiff \
       $(BUILD)/bin/make_golden $(BUILD)/bin/gen_hostile

# Recorder test programs (tests/progs): NAME.c / NAME.cc -> $(BUILD)/progs/NAME,
# libplugin.c -> libplugin.so, and leaks.c linked with -lmemscope as
# leaks_linked. Built without optimisation and with frame pointers so stacks
# and symbol names are exact (service_linked: service.c linked with
# -lmemscope). Not built for SAN=1 (they run under the
# normal libmemscope only).
PROG_C    := $(filter-out tests/progs/libplugin.c,$(wildcard tests/progs/*.c))
PROG_CC   := $(wildcard tests/progs/*.cc)
PROG_BINS := $(patsubst tests/progs/%.c,$(BUILD)/progs/%,$(PROG_C)) \
             $(patsubst tests/progs/%.cc,$(BUILD)/progs/%,$(PROG_CC)) \
             $(BUILD)/progs/libplugin.so $(BUILD)/progs/leaks_linked $(BUILD)/progs/service_linked
PROG_FLAGS := -g -O0 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra -Werror -Iformat -pthread
# nofp: built like a distribution binary, without frame pointers (--unwind fp test)
$(BUILD)/progs/nofp: PROG_FLAGS := -g -O2 -fomit-frame-pointer -D_GNU_SOURCE -Wall -Wextra -Werror -Iformat -pthread
# unwvar, memostress: the same, for the unwind-rule cache and memo tests
# (test_unwcache.sh, test_memo.sh)
$(BUILD)/progs/unwvar: PROG_FLAGS := -g -O2 -fomit-frame-pointer -D_GNU_SOURCE -Wall -Wextra -Werror -Iformat -pthread
$(BUILD)/progs/memostress: PROG_FLAGS := -g -O2 -fomit-frame-pointer -D_GNU_SOURCE -Wall -Wextra -Werror -Iformat -pthread
# allocstats: built without PIE and taking malloc's address, so its dynamic
# symbol table holds a PLT entry named malloc (as python3.11's does)
$(BUILD)/progs/allocstats: PROG_FLAGS += -fno-pie -no-pie
$(BUILD)/progs/%: tests/progs/%.c tests/progs/progs.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(PROG_FLAGS) -o $@ $< -ldl
$(BUILD)/progs/%: tests/progs/%.cc
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(PROG_FLAGS) -o $@ $<
$(BUILD)/progs/libplugin.so: tests/progs/libplugin.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(PROG_FLAGS) -shared -fPIC -o $@ $<
$(BUILD)/progs/leaks_linked: tests/progs/leaks.c tests/progs/progs.h $(LIBSO)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(PROG_FLAGS) -o $@ $< -L$(BUILD)/lib -Wl,--no-as-needed -lmemscope -Wl,-rpath,$(abspath $(BUILD)/lib)
$(BUILD)/progs/service_linked: tests/progs/service.c tests/progs/progs.h $(LIBSO)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(PROG_FLAGS) -o $@ $< -L$(BUILD)/lib -Wl,--no-as-needed -lmemscope -Wl,-rpath,$(abspath $(BUILD)/lib)
ifneq ($(SAN),1)
tests: $(PROG_BINS)
endif

# Plain driver replaying fuzz corpora (no libFuzzer needed).
$(BUILD)/bin/fuzz-replay: $(BUILD)/obj/fuzz/replay_main.o $(BUILD)/obj/fuzz/fuzz_reader.o $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS_FORMAT)

# Replay drivers of the converter fuzz targets (fuzz/fuzz_msconv.c,
# fuzz/fuzz_msdiff.c): msconv's and msdiff's main compiled as
# msconv_main / msdiff_main and called in-process on each input.
$(BUILD)/obj/fuzz/msconv_main.o: convert/msconv/main.c $(HEADER)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Dmain=msconv_main -c $< -o $@
$(BUILD)/obj/fuzz/msdiff_main.o: convert/msdiff/main.c $(HEADER)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Dmain=msdiff_main -c $< -o $@
$(BUILD)/bin/fuzz-replay-msconv: $(BUILD)/obj/fuzz/replay_main.o $(BUILD)/obj/fuzz/fuzz_msconv.o $(BUILD)/obj/fuzz/msconv_main.o \
		$(filter-out $(BUILD)/obj/convert/msconv/main.o,$(MSCONV_OBJS)) $(CONVCOM_OBJS) $(LIBANA) $(LIBSYM) $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS_FORMAT) $(LIBS_SYM) $(LIBS_TOOLS) $(LIBS_PPROF)
$(BUILD)/bin/fuzz-replay-msdiff: $(BUILD)/obj/fuzz/replay_main.o $(BUILD)/obj/fuzz/fuzz_msdiff.o $(BUILD)/obj/fuzz/msdiff_main.o \
		$(filter-out $(BUILD)/obj/convert/msdiff/main.o,$(MSDIFF_OBJS)) $(CONVCOM_OBJS) $(LIBANA) $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS_FORMAT) $(LIBS_TOOLS)

# Golden-file generator, run by hand once per format version; it refuses to
# overwrite (tests/golden/README.md).
$(BUILD)/bin/make_golden: $(BUILD)/obj/tests/golden/make_golden.o $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS_FORMAT)

# Hostile-but-valid trace generator for tests/hostile (and fuzz seeds).
$(BUILD)/bin/gen_hostile: $(BUILD)/obj/tests/hostile/gen_hostile.o $(LIBFMT)
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS_FORMAT)

deps:
	@sh tools/deps.sh

# Full test run: deps, normal build, ASan+UBSan build, then every suite.
test: deps
	$(MAKE) tests
	$(MAKE) BUILD=build/asan SAN=1 tests
	@sh tests/run.sh

# The real-program suite alone (tests/real/: sqlite3, git, gcc, binutils,
# python3, bash, perl, zstd, ripgrep, java, C++), every repeat count x REAL_SCALE (default
# 5: 500 sqlite3 runs...). `make test` runs it once at scale 1.
test-real: deps
	$(MAKE) tests
	@REAL_SCALE=$${REAL_SCALE:-5} TESTS=real/ sh tests/run.sh

# Tests without the deps step (developer loop).
test-fast:
	$(MAKE) tests
	$(MAKE) BUILD=build/asan SAN=1 tests
	@sh tests/run.sh

demo: deps
	$(MAKE) all
	@sh tools/demo.sh

bench: deps
	$(MAKE) all
	@sh bench/run.sh

fuzz:
	@sh fuzz/build.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(BUILD)/bin/msrec-static $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(HEADER) $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/lib/memscope.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
