# Raspberry Pi 5 (Cortex-A76, 2-16 GiB), 64-bit Raspberry Pi OS or Debian arm64.
# 1024 clients and a 32 MiB SQLite cache: within a tenth of the 2 GiB model;
# see board/rpi5/README.md. Every -D here overrides a default of src/config.h.
BOARD_DESCRIPTION := Raspberry Pi 5, 64-bit Raspberry Pi OS (arm64)
include cross/aarch64-linux-gnu.mk
BOARD_CFLAGS := -mcpu=cortex-a76
# Every feature, as config.h's defaults. HTTPS on:
# 24 KiB per WSS connection (x86-64 figure) is 24 MiB at 1024 clients.
BOARD_DEFINES := -DCHAT_MAX_CLIENTS=1024 -DCHAT_HTTP_THREADS=32 -DCHAT_FEED_BYTES='(1024*1024)' \
                 -DCHAT_MAX_SESSIONS=2048 -DCHAT_WRITE_QUEUE=1024 \
                 -DCHAT_SQLITE_HEAP_LIMIT='(32*1024*1024)'
