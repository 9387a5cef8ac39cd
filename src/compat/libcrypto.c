/* libcrypto.so of lanchat: no code, only the SONAME "libcrypto.so" that
 * Debian's civetweb dlopen()s, and a dependency on libcrypto.so.3, where
 * dlsym finds every function civetweb asks for (see sslcompat.h). */
typedef int libcrypto_compat_is_empty;
