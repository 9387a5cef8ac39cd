# arm-linux-gnueabi: 32-bit ARM soft-float EABI, Debian armel (baseline ARMv5TE;
# boards add -mcpu for ARMv6). Its binaries and libraries run on any ARM EABI
# Linux kernel whatever the userland, given their own loader and libraries:
# that is how the rpi-zero bundle runs on Raspberry Pi OS for ARMv6 (Pi Zero W,
# Pi 1), which is neither Debian armhf (ARMv7) nor armel.
CROSS_TRIPLE := arm-linux-gnueabi
CROSS_PACKAGE := gcc-arm-linux-gnueabi
CROSS_LIBC_PACKAGE := libc6-dev-armel-cross
DEB_ARCH := armel
QEMU := qemu-arm
QEMU_PACKAGE := qemu-user
