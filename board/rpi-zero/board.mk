# Raspberry Pi Zero W and Pi 1 (ARM1176JZF-S, ARMv6 with VFPv2, 512 MiB, one
# core). Raspberry Pi OS there is ARMv6 hard-float, neither Debian armhf nor
# armel, so lanchat is built against Debian armel and shipped as a bundle with
# its own loader and libraries (make BOARD=rpi-zero bundle). softfp keeps the
# armel calling convention while using the VFP. See board/rpi-zero/README.md.
BOARD_DESCRIPTION := Raspberry Pi Zero W / Pi 1, any EABI userland (armel bundle)
include cross/arm-linux-gnueabi.mk
BOARD_PACKAGE := bundle
BOARD_CFLAGS := -mcpu=arm1176jzf-s -mfpu=vfp -mfloat-abi=softfp
# Every feature, as config.h's defaults (each costs a few KiB of code, no RAM
# worth saving; MQTT, 16 KB of code and 0.25 MB of RSS with --mqtt, too); 256 clients on one I/O thread (one core); 256 KiB feeds; 16
# rooms; a smaller write batch and SQLite cache; argon2id at 16 MiB x 3 passes
# instead of 32 MiB x 2 (OWASP's 12 MiB x 3 is the floor) so a login does not
# take a sixth of free RAM. Stored hashes carry their own cost, so a database
# moves between boards. Every -D here overrides a default of src/config.h
# (`make BOARD=rpi-zero config` prints every value).
# HTTPS on: 6 MiB for 256 WSS clients (x86-64 figure) and +5 MB idle fit its
# 512 MiB; the service worker and passwords need it. Its handshake CPU on an
# ARM1176 is not measured (qemu cannot): a P-256 handshake per page load.
BOARD_DEFINES := -DCHAT_MAX_CLIENTS=256 -DCHAT_IO_THREADS=1 -DCHAT_FEED_BYTES='(256*1024)' \
                 -DCHAT_MAX_SESSIONS=512 -DCHAT_MAX_ROOMS=16 -DCHAT_WRITE_BATCH=32 \
                 -DCHAT_SQLITE_HEAP_LIMIT='(4*1024*1024)' \
                 -DCHAT_PWHASH_MEMLIMIT='(16*1024*1024)' -DCHAT_PWHASH_OPSLIMIT=3
