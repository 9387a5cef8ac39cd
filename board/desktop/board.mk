# Desktop / CI profile: the build host's own compiler and libraries.
# 1024 clients (S2, S3 of docs/PERFORMANCE.md), 1 MiB feeds. Every -D here
# overrides a default of src/config.h.
BOARD_DESCRIPTION := x86-64 or any native Debian host
CROSS :=
BOARD_CFLAGS :=
# HTTPS on: the default of config.h (CHAT_WITH_TLS; costs there and in
# docs/SECURITY.md); not named here so that FLAGS=minimal can turn it off.
BOARD_DEFINES := -DCHAT_MAX_CLIENTS=1024 -DCHAT_MAX_SESSIONS=2048 -DCHAT_WRITE_QUEUE=1024 \
                 -DCHAT_HTTP_THREADS=32 -DCHAT_FEED_BYTES='(1024*1024)'
