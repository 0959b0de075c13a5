#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/socket.h>

#include "common/c_handles.h"

namespace common {

void CHandleFree::operator()(nl_sock* s) const {
  nl_socket_free(s);
}
void CHandleFree::operator()(nl_cache* c) const {
  nl_cache_free(c);
}
void CHandleFree::operator()(nl_addr* a) const {
  nl_addr_put(a);
}
void CHandleFree::operator()(rtnl_addr* a) const {
  rtnl_addr_put(a);
}

}  // namespace common
