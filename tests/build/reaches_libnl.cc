// Must not build: a pure library that includes libnl (tests/build/purity_test.py).
#include <netlink/netlink.h>
