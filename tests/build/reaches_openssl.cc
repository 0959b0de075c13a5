// Must not build: a pure library that includes OpenSSL (tests/build/purity_test.py).
#include <openssl/ssl.h>
