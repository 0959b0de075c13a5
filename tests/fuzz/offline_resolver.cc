// The fuzz binaries never ask DNS. proxyd's loader resolves upstream server
// names at load, as nginx does, so every random name would become a query to
// the machine's resolver: slow (a timeout per input) and traffic we have no
// business sending. This definition takes the place of libc's in the fuzz
// and replay binaries (ASan's interceptor is a weak alias), so every name is
// "not found"; numeric addresses are parsed before getaddrinfo is asked.
#include <netdb.h>

extern "C" int getaddrinfo(const char* /*name*/, const char* /*service*/, const addrinfo* /*hints*/,
                           addrinfo** result) {
  *result = nullptr;
  return EAI_NONAME;
}
