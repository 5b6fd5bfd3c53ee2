# The device kernel on a Cortex-M0: kernel-check, firmware-test, bench-m0.
# Included by the Makefile.

ARM_FLAGS  = -mcpu=cortex-m0 -mthumb -ffreestanding -fno-tree-loop-distribute-patterns
FW         = $(BUILD)/fw
STACK_OF   = awk -f tests/firmware/stack.awk
FW_OPT    ?= -O2
QEMU_RUN   = timeout 60 $(QEMU_ARM) -M microbit -display none -monitor none -serial none \
             -chardev stdio,id=sh -semihosting-config enable=on,target=native,chardev=sh

# Freestanding, no libgcc helper, no float: for each kernel build the
# firmware may pick (-O2, -Os and the compact -O2 -DEVONET_COMPACT; the
# FW_FLAGS_* below), with the strict warning set. `nm -u` must print nothing.
# The stack the kernel takes in each (the deepest path from evonet_forward in
# GCC's call graph with the frame sizes of -fstack-usage) must be what
# include/evonet.h's EVONET_STACK_BYTES claims, the largest of them: exported
# headers state it to firmware, whichever build it links.
kernel-check:
	@mkdir -p $(FW)
	@$(foreach o,$(FW_BUILDS), \
	  $(ARM_CC) -std=c99 $(ARM_FLAGS) $(FW_FLAGS_$(o)) $(WARN_KERNEL) -Iinclude -fstack-usage \
	    -fcallgraph-info=su -c src/kernel/evonet.c -o $(FW)/evonet_$(o).o || exit 1; \
	  u=$$($(ARM_NM) -u $(FW)/evonet_$(o).o); \
	  if [ -n "$$u" ]; then echo "kernel-check: $(o) ($(FW_FLAGS_$(o))) needs: $$u"; exit 1; fi;) true
	@c=$$(awk '$$1 == "#define" && $$2 == "EVONET_STACK_BYTES" {print $$3}' include/evonet.h) && \
	  m=0 && all="" && for o in $(FW_BUILDS); do \
	    s=$$($(STACK_OF) $(FW)/evonet_$$o.ci) || exit 1; \
	    all="$$all $$o:$$s"; m=$$((s > m ? s : m)); done && \
	  if [ "$$c" != "$$m" ]; then \
	    echo "kernel-check: include/evonet.h says EVONET_STACK_BYTES $$c, the kernel measures" \
	      "(bytes per build)$$all: set it to $$m (and its comment)"; exit 1; fi
	@$(CC) -std=c99 -ffreestanding -nostdinc -isystem $$($(CC) -print-file-name=include) \
	  -O2 $(WARN_KERNEL) -Iinclude -c src/kernel/evonet.c -o $(FW)/evonet_host_freestanding.o
	@grep -q '#pragma GCC poison float double' src/kernel/evonet.c || \
	  { echo "kernel-check: src/kernel/evonet.c lost its float poison"; exit 1; }
	@echo "kernel-check: ok (no undefined symbols at $(FW_BUILDS), no libc headers, float poisoned, stack as EVONET_STACK_BYTES)"

$(FW)/gen: tests/firmware/gen.c src/train/export.c src/kernel/evonet.c src/net/evonet_check.c src/base/util.c $(HDRS)
	@mkdir -p $(FW)
	$(CC) $(CSTD) -O1 -g $(SAN) $(WARN_BASE) $(CPPFLAGS) $(addprefix -I,$(INC_tests)) -o $@ tests/firmware/gen.c \
	  src/train/export.c src/kernel/evonet.c src/net/evonet_check.c src/base/util.c -lgsl -lopenblas -lm

# One fixture network per weight format: int8 (fixture_net), int4, int2, ternary.
FW_FIXTURES = fixture_net fixture_w4 fixture_w2 fixture_wt
$(FW)/expected.txt $(FW_FIXTURES:%=$(FW)/%.h) $(FW)/vectors.h &: $(FW)/gen
	$(FW)/gen $(FW) 1

FW_SRC = tests/firmware/startup.c tests/firmware/fw_main.c src/kernel/evonet.c
FW_DEPS = $(FW_SRC) tests/firmware/fw.h tests/firmware/m0.ld include/evonet.h \
          $(FW_FIXTURES:%=$(FW)/%.h) $(FW)/vectors.h

.PHONY: export-check

# One image per kernel build the firmware may use: the fast (-O2) and the
# compact (-Os, or -O2 -DEVONET_COMPACT: O2c) kernel differ in structure, so
# each must prove itself bit for bit, for every weight format. -nostdlib and
# no -lgcc: any libgcc helper the kernel needed would fail the link.
FW_BUILDS = O2 Os O2c
FW_FLAGS_O2 = -O2
FW_FLAGS_Os = -Os
FW_FLAGS_O2c = -O2 -DEVONET_COMPACT
$(FW_BUILDS:%=$(FW)/fw_%.elf): $(FW)/fw_%.elf: $(FW_DEPS)
	$(ARM_CC) -std=c99 $(ARM_FLAGS) $(FW_FLAGS_$*) -g $(WARN_BASE) -Iinclude -I$(FW) \
	  -nostdlib -T tests/firmware/m0.ld -Wl,--gc-sections -o $@ $(FW_SRC)

# The exported header must build warning-free as strict C99, for the host and
# for the Cortex-M0, with nothing but a call to its self-test.
export-check: $(FW_FIXTURES:%=$(FW)/%.h)
	@{ for f in $(FW_FIXTURES); do printf '#include "%s.h"\n' $$f; done; \
	  printf 'int main(void);\nint main(void)\n{\n    return 0'; \
	  for f in $(FW_FIXTURES); do printf ' | %s_selftest()' $$f; done; printf ';\n}\n'; } \
	  > $(FW)/export_main.c
	@$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -O2 -Iinclude -I$(FW) \
	  -o $(FW)/export_host $(FW)/export_main.c src/kernel/evonet.c
	@$(FW)/export_host || { echo "export-check: host self-test failed"; exit 1; }
	@$(ARM_CC) -std=c99 -Wall -Wextra -Werror -pedantic $(ARM_FLAGS) -O2 -Iinclude -I$(FW) \
	  -c -o $(FW)/export_m0.o $(FW)/export_main.c
	@echo "export-check: $(FW_FIXTURES:%=%.h) build with -std=c99 -pedantic -Werror for the host and the Cortex-M0"

firmware-test: $(FW_BUILDS:%=$(FW)/fw_%.elf) $(FW)/expected.txt export-check
	@for o in $(FW_BUILDS); do \
	  $(QEMU_RUN) -kernel $(FW)/fw_$$o.elf > $(FW)/device_$$o.txt; rc=$$?; \
	  if [ $$rc -ne 0 ]; then echo "firmware-test -$$o: QEMU exit $$rc (fault, self-test failure or timeout)"; \
	    tail -3 $(FW)/device_$$o.txt; exit 1; fi; \
	  if ! cmp -s $(FW)/device_$$o.txt $(FW)/expected.txt; then \
	    echo "firmware-test -$$o: device outputs differ from the host's:"; \
	    diff $(FW)/expected.txt $(FW)/device_$$o.txt | head -10; exit 1; fi; \
	  echo "firmware-test $$o: $$(wc -l < $(FW)/device_$$o.txt) outputs (int8, int4, int2, ternary networks) bit-identical on the Cortex-M0 (QEMU microbit)"; \
	done

$(FW)/libm0cycles.so: tests/firmware/m0cycles.c
	@mkdir -p $(FW)
	$(CC) -shared -fPIC -O2 -o $@ $<

# Kernel bytes and stack from the kernel-check objects (one per build:
# -O2, -Os, the compact -O2 -DEVONET_COMPACT); instructions and estimated
# cycles of one inference of each fixture network (int8, int4, int2, ternary:
# regions 0 to 3 of the image), for each build, with the single-cycle
# multiplier of the Cortex-M0 and with the 32-cycle one of the small
# Cortex-M0+ parts (mul=32).
M0_FMTS = w8 w4 w2 wt
bench-m0: $(FW_BUILDS:%=$(FW)/fw_%.elf) $(FW)/libm0cycles.so kernel-check
	@for o in $(FW_BUILDS); do \
	  printf 'm0_kernel_bytes_%s: ' $$o; $(ARM_SIZE) -B $(FW)/evonet_$$o.o | awk 'NR==2{print $$1}'; done
	@for o in $(FW_BUILDS); do printf 'm0_kernel_stack_bytes_%s: ' $$o; $(STACK_OF) $(FW)/evonet_$$o.ci; done
	@for o in $(FW_BUILDS); do for mul in 1 32; do \
	  b=$$($(ARM_NM) $(FW)/fw_$$o.elf | awk '/ bench_begin$$/{print $$1}'); \
	  e=$$($(ARM_NM) $(FW)/fw_$$o.elf | awk '/ bench_end$$/{print $$1}'); \
	  $(QEMU_RUN) -kernel $(FW)/fw_$$o.elf -d plugin -D $(FW)/cycles_$${o}_$$mul.log \
	    -plugin $(FW)/libm0cycles.so,begin=0x$$b,end=0x$$e,mul=$$mul > /dev/null || exit 1; \
	  sfx=$$([ $$mul = 1 ] && echo "" || echo "_mul32"); \
	  awk -F'[ =:]' -v o=$$o -v s="$$sfx" -v f="$(M0_FMTS)" \
	    'BEGIN{split(f, n, " ")} /^region [0-9]+:/{r = $$2 + 1; \
	      if (s == "" && o == "O2") print "m0_insns_per_inference_" n[r] "_" o ": " $$5; \
	      print "m0_cycles_per_inference_" n[r] "_" o s ": " $$7}' $(FW)/cycles_$${o}_$$mul.log; \
	done; done
