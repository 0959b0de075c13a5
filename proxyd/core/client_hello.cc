// parseClientHello is the reader of client_hello_reader.h used once.
#include "proxyd/core/client_hello.h"

#include "proxyd/core/client_hello_reader.h"

namespace proxyd {

ClientHelloResult parseClientHello(std::string_view data) {
  ClientHelloReader reader;
  reader.read(data);
  return reader.result();
}

}  // namespace proxyd
