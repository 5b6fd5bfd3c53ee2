# placeholder, replaced by the kernel work
kernel-check:
firmware-test:
bench-m0:
