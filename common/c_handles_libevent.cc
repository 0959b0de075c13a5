#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/c_handles.h"

namespace common {

void CHandleFree::operator()(event_base* b) const {
  event_base_free(b);
}
void CHandleFree::operator()(event* e) const {
  event_free(e);
}
void CHandleFree::operator()(evconnlistener* l) const {
  evconnlistener_free(l);
}
void CHandleFree::operator()(bufferevent* bev) const {
  bufferevent_free(bev);
}

}  // namespace common
