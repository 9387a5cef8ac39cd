# arm-linux-gnueabihf: 32-bit ARMv7 hard-float, Debian armhf. Runs on 32-bit
# Raspberry Pi OS on ARMv7 and later (Pi 2, 3, 4): Raspberry Pi OS's own armhf
# is built for ARMv6 but has the same ABI and library names, so a Debian armhf
# binary runs there on an ARMv7 CPU. Not on a Pi Zero W or Pi 1 (ARMv6).
CROSS_TRIPLE := arm-linux-gnueabihf
CROSS_PACKAGE := gcc-arm-linux-gnueabihf
CROSS_LIBC_PACKAGE := libc6-dev-armhf-cross
DEB_ARCH := armhf
QEMU := qemu-arm
QEMU_PACKAGE := qemu-user
