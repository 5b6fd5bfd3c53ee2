# The device kernel on a Cortex-M0: kernel-check, firmware-test, bench-m0.
# Included by the Makefile.

ARM_FLAGS  = -mcpu=cortex-m0 -mthumb -ffreestanding -fno-tree-loop-distribute-patterns
FW         = $(BUILD)/fw
STACK_OF   = awk -f tests/firmware/stack.awk
FW_OPT    ?= -O2
QEMU_RUN   = timeout 60 $(QEMU_ARM) -M microbit -display none -monitor none -serial none \
             -chardev stdio,id=sh -semihosting-config enable=on,target=native,chardev=sh

# Freestanding, no libgcc helper, no float: at -O2 and -Os, with the strict
# warning set. `nm -u` must print nothing. The stack the kernel takes at each
# (the deepest path from evonet_forward in GCC's call graph with the frame
# sizes of -fstack-usage) must be what include/evonet.h's EVONET_STACK_BYTES
# claims, the larger of the two; exported headers state it to firmware.
kernel-check:
	@mkdir -p $(FW)
	@for o in O2 Os; do \
	  $(ARM_CC) -std=c99 $(ARM_FLAGS) -$$o $(WARN_KERNEL) -Iinclude -fstack-usage \
	    -fcallgraph-info=su -c src/kernel/evonet.c -o $(FW)/evonet_$$o.o || exit 1; \
	  u=$$($(ARM_NM) -u $(FW)/evonet_$$o.o); \
	  if [ -n "$$u" ]; then echo "kernel-check: -$$o needs: $$u"; exit 1; fi; \
	done
	@s2=$$($(STACK_OF) $(FW)/evonet_O2.ci) && ss=$$($(STACK_OF) $(FW)/evonet_Os.ci) && \
	  c=$$(awk '$$1 == "#define" && $$2 == "EVONET_STACK_BYTES" {print $$3}' include/evonet.h) && \
	  m=$$((s2 > ss ? s2 : ss)) && \
	  if [ "$$c" != "$$m" ]; then \
	    echo "kernel-check: include/evonet.h says EVONET_STACK_BYTES $$c, the kernel measures" \
	      "$$s2 bytes at -O2 and $$ss at -Os: set it to $$m (and its comment)"; exit 1; fi
	@$(CC) -std=c99 -ffreestanding -nostdinc -isystem $$($(CC) -print-file-name=include) \
	  -O2 $(WARN_KERNEL) -Iinclude -c src/kernel/evonet.c -o $(FW)/evonet_host_freestanding.o
	@grep -q '#pragma GCC poison float double' src/kernel/evonet.c || \
	  { echo "kernel-check: src/kernel/evonet.c lost its float poison"; exit 1; }
	@echo "kernel-check: ok (no undefined symbols at -O2 and -Os, no libc headers, float poisoned, stack as EVONET_STACK_BYTES)"

$(FW)/gen: tests/firmware/gen.c src/train/export.c src/kernel/evonet.c src/net/evonet_check.c src/base/util.c $(HDRS)
	@mkdir -p $(FW)
	$(CC) $(CSTD) -O1 -g $(SAN) $(WARN_BASE) $(CPPFLAGS) $(addprefix -I,$(INC_tests)) -o $@ tests/firmware/gen.c \
	  src/train/export.c src/kernel/evonet.c src/net/evonet_check.c src/base/util.c -lgsl -lopenblas -lm

$(FW)/expected.txt $(FW)/fixture_net.h $(FW)/vectors.h &: $(FW)/gen
	$(FW)/gen $(FW) 1

FW_SRC = tests/firmware/startup.c tests/firmware/fw_main.c src/kernel/evonet.c
FW_DEPS = $(FW_SRC) tests/firmware/fw.h tests/firmware/m0.ld include/evonet.h \
          $(FW)/fixture_net.h $(FW)/vectors.h

.PHONY: export-check

# One image per kernel build the firmware may use: the fast (-O2) and the small
# (-Os) kernel differ in structure, so each must prove itself bit for bit.
# -nostdlib and no -lgcc: any libgcc helper the kernel needed would fail the link.
$(FW)/fw_O2.elf $(FW)/fw_Os.elf: $(FW)/fw_%.elf: $(FW_DEPS)
	$(ARM_CC) -std=c99 $(ARM_FLAGS) -$* -g $(WARN_BASE) -Iinclude -I$(FW) \
	  -nostdlib -T tests/firmware/m0.ld -Wl,--gc-sections -o $@ $(FW_SRC)

# The exported header must build warning-free as strict C99, for the host and
# for the Cortex-M0, with nothing but a call to its self-test.
export-check: $(FW)/fixture_net.h
	@printf '#include "fixture_net.h"\nint main(void);\nint main(void)\n{\n    return fixture_net_selftest();\n}\n' \
	  > $(FW)/export_main.c
	@$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -O2 -Iinclude -I$(FW) \
	  -o $(FW)/export_host $(FW)/export_main.c src/kernel/evonet.c
	@$(FW)/export_host || { echo "export-check: host self-test failed"; exit 1; }
	@$(ARM_CC) -std=c99 -Wall -Wextra -Werror -pedantic $(ARM_FLAGS) -O2 -Iinclude -I$(FW) \
	  -c -o $(FW)/export_m0.o $(FW)/export_main.c
	@echo "export-check: fixture_net.h builds with -std=c99 -pedantic -Werror for the host and the Cortex-M0"

firmware-test: $(FW)/fw_O2.elf $(FW)/fw_Os.elf $(FW)/expected.txt export-check
	@for o in O2 Os; do \
	  $(QEMU_RUN) -kernel $(FW)/fw_$$o.elf > $(FW)/device_$$o.txt; rc=$$?; \
	  if [ $$rc -ne 0 ]; then echo "firmware-test -$$o: QEMU exit $$rc (fault, self-test failure or timeout)"; \
	    tail -3 $(FW)/device_$$o.txt; exit 1; fi; \
	  if ! cmp -s $(FW)/device_$$o.txt $(FW)/expected.txt; then \
	    echo "firmware-test -$$o: device outputs differ from the host's:"; \
	    diff $(FW)/expected.txt $(FW)/device_$$o.txt | head -10; exit 1; fi; \
	  echo "firmware-test -$$o: $$(wc -l < $(FW)/device_$$o.txt) vectors bit-identical on the Cortex-M0 (QEMU microbit)"; \
	done

$(FW)/libm0cycles.so: tests/firmware/m0cycles.c
	@mkdir -p $(FW)
	$(CC) -shared -fPIC -O2 -o $@ $<

# Kernel bytes from the kernel-check objects; instructions and estimated
# cycles of one inference between the bench markers, for each image.
bench-m0: $(FW)/fw_O2.elf $(FW)/fw_Os.elf $(FW)/libm0cycles.so kernel-check
	@for o in O2 Os; do \
	  printf 'm0_kernel_bytes_%s: ' $$o; $(ARM_SIZE) -B $(FW)/evonet_$$o.o | awk 'NR==2{print $$1}'; done
	@for o in O2 Os; do printf 'm0_kernel_stack_bytes_%s: ' $$o; $(STACK_OF) $(FW)/evonet_$$o.ci; done
	@for o in O2 Os; do \
	  b=$$($(ARM_NM) $(FW)/fw_$$o.elf | awk '/ bench_begin$$/{print $$1}'); \
	  e=$$($(ARM_NM) $(FW)/fw_$$o.elf | awk '/ bench_end$$/{print $$1}'); \
	  $(QEMU_RUN) -kernel $(FW)/fw_$$o.elf -d plugin -D $(FW)/cycles_$$o.log \
	    -plugin $(FW)/libm0cycles.so,begin=0x$$b,end=0x$$e > /dev/null || exit 1; \
	  if [ $$o = O2 ]; then \
	    awk -F'[ =]' '/^region 0:/{print "m0_insns_per_inference: " $$4; print "m0_cycles_per_inference: " $$6}' $(FW)/cycles_$$o.log; \
	  else \
	    awk -F'[ =]' '/^region 0:/{print "m0_cycles_per_inference_Os: " $$6}' $(FW)/cycles_$$o.log; \
	  fi; \
	done
