// Must not build: a pure library that reaches libevent through a common/
// header (common/event.h owns libevent handles, for io/ only).
#include "common/event.h"
