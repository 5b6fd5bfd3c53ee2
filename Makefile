# evotrain: hand-written makefile; `make help` lists the targets.
#
# Source sets are found by wildcard so a new module is one .c/.h pair and a new
# test is one tests/test_<module>.c; nothing here needs editing for either.

CC       ?= gcc
ARM_CC   ?= arm-none-eabi-gcc
ARM_NM   ?= arm-none-eabi-nm
ARM_SIZE ?= arm-none-eabi-size
QEMU_ARM ?= qemu-system-arm
PREFIX   ?= /usr/local

# Named warning groups, as Lua does: every build turns them all into errors.
WARN_BASE   = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wundef \
              -Wformat=2 -Wvla -Wwrite-strings -Wnull-dereference
# The device kernel must also survive the stricter integer checks.
WARN_KERNEL = $(WARN_BASE) -Wconversion -Wsign-conversion -Wcast-align -pedantic

CPPFLAGS += -Iinclude -Isrc -Isim -D_POSIX_C_SOURCE=200809L
CSTD      = -std=c11
OPT      ?= -O2 -g
LDLIBS    = -lgsl -llapacke -lopenblas -linih -lz -lm

BUILD    = build
REL      = $(BUILD)/rel
TST      = $(BUILD)/test
SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRC  = $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard sim/*.c)
HDRS     = $(wildcard include/*.h src/*.h sim/*.h)
TESTS    = $(patsubst tests/%.c,$(TST)/%,$(wildcard tests/test_*.c))

REL_OBJ  = $(patsubst %.c,$(REL)/%.o,$(LIB_SRC))
TST_OBJ  = $(patsubst %.c,$(TST)/%.o,$(LIB_SRC))

.PHONY: all test unit-test firmware-test kernel-check bench bench-m0 clean help \
        install uninstall format
all: evotrain

# Keep test objects between runs (they are intermediates of the test binaries).
.SECONDARY:

evotrain: $(REL_OBJ) $(REL)/src/main.o
	$(CC) $(OPT) -fopenmp -o $@ $^ $(LDLIBS)

$(REL)/%.o: %.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) -fopenmp $(WARN_BASE) $(CPPFLAGS) -c -o $@ $<

# The test build: the same sources under ASan and UBSan.
$(TST)/%.o: %.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) -O1 -g -fopenmp $(SAN) $(WARN_BASE) $(CPPFLAGS) -DET_TESTING -c -o $@ $<

$(TST)/test_%: $(TST)/tests/test_%.o $(TST_OBJ)
	$(CC) -fopenmp $(SAN) -o $@ $^ $(LDLIBS) -lcmocka

$(TST)/evotrain: $(TST_OBJ) $(TST)/src/main.o
	$(CC) -fopenmp $(SAN) -o $@ $^ $(LDLIBS)

# Every cmocka binary runs from the project root (tests read tests/data/).
unit-test: $(TESTS) $(TST)/evotrain
	@fail=0; for t in $(TESTS); do \
	  echo "== $$t"; ET_BIN=$(TST)/evotrain $$t || fail=1; done; \
	  test $$fail = 0

test: unit-test kernel-check firmware-test
	@echo "all tests passed"

include tests/firmware/firmware.mk

bench: evotrain
	./evotrain bench

clean:
	rm -rf $(BUILD) evotrain

format:
	clang-format -i $(wildcard src/*.[ch] include/*.h sim/*.[ch] tests/*.c tests/firmware/*.[ch])

help:
	@echo "make             build ./evotrain"
	@echo "make test        unit tests (ASan+UBSan), kernel-check, firmware test under QEMU"
	@echo "make kernel-check  the device kernel: freestanding, no libgcc helper, no float"
	@echo "make bench       host figures (name: value lines)"
	@echo "make bench-m0    Cortex-M0 code size, instructions and cycles per inference"
