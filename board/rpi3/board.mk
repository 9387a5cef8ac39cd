# Raspberry Pi 3 (Cortex-A53, 1 GiB; also Zero 2 W with 512 MiB), 32-bit
# Raspberry Pi OS or Debian armhf. -mcpu=cortex-a53 emits ARMv8 AArch32 code:
# it does not run on a Pi 2 (Cortex-A7) or on ARMv6 (use rpi-zero there).
# 512 clients, 512 KiB feeds and a smaller SQLite cache, well inside the
# Zero 2 W's 512 MiB; see board/rpi3/README.md. Every -D here overrides a
# default of src/config.h.
BOARD_DESCRIPTION := Raspberry Pi 3 / Zero 2 W, 32-bit Raspberry Pi OS (armhf)
include cross/arm-linux-gnueabihf.mk
BOARD_CFLAGS := -mcpu=cortex-a53 -mfpu=neon-fp-armv8 -mfloat-abi=hard
# Every feature, as config.h's defaults. HTTPS on:
# 24 KiB per WSS connection (x86-64 figure) is 12 MiB at 512 clients.
BOARD_DEFINES := -DCHAT_MAX_CLIENTS=512 -DCHAT_HTTP_THREADS=16 \
                 -DCHAT_MAX_SESSIONS=1024 -DCHAT_WRITE_QUEUE=512 \
                 -DCHAT_SQLITE_HEAP_LIMIT='(6*1024*1024)'
