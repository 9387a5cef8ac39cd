# aarch64-linux-gnu: 64-bit ARM, Debian arm64. Runs on 64-bit Raspberry Pi OS
# (Pi 3, 4, 5, Zero 2 W) and any arm64 Debian or Ubuntu.
CROSS_TRIPLE := aarch64-linux-gnu
CROSS_PACKAGE := gcc-aarch64-linux-gnu
CROSS_LIBC_PACKAGE := libc6-dev-arm64-cross
DEB_ARCH := arm64
QEMU := qemu-aarch64
QEMU_PACKAGE := qemu-user
