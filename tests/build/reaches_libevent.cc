// Must not build: a pure library that includes libevent (tests/build/purity_test.py).
#include <event2/event.h>
