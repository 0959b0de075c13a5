#include <openssl/ssl.h>

#include "common/c_handles.h"

namespace common {

void CHandleFree::operator()(ssl_ctx_st* ctx) const {
  SSL_CTX_free(ctx);
}

void CHandleFree::operator()(ssl_st* ssl) const {
  SSL_free(ssl);
}

}  // namespace common
