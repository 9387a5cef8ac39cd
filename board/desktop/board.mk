# Desktop / CI profile: the build host's own compiler and libraries.
# Every -D here overrides a default of src/config.h.
BOARD_DESCRIPTION := x86-64 or any native Debian host
CROSS :=
BOARD_CFLAGS :=
BOARD_DEFINES := -DCHAT_MAX_CLIENTS=128 -DCHAT_MSG_POOL=1024
