# DESIGN.md: "A core/ library links common and fmt only: no libevent, OpenSSL
# or libnl header is reachable from it, and the build proves it."
#
# libevent's and OpenSSL's headers sit in /usr/include, where every compile
# finds them, so leaving them off the link line is not enough. Instead a
# directory of stand-ins, one for every header those libraries install, each
# an #error, goes first on a pure target's include path: a core file (or a
# common header it includes) that reaches for one does not build, and the
# message says why. Every header of a core library also gets a translation
# unit of its own, so a header no .cc of the library includes is held to the
# same rule.

set(PROXYHA_POISON_DIR ${CMAKE_BINARY_DIR}/core-poison)

function(proxyha_write_poison dir rel library)
  set(path ${PROXYHA_POISON_DIR}/${rel})
  set(text "#error \"<${rel}> is ${library}: core/ code stays pure (DESIGN.md, Layout); move the I/O to io/\"\n")
  if(EXISTS ${path})
    file(READ ${path} old)
    if(old STREQUAL text)
      return()
    endif()
  endif()
  file(WRITE ${path} "${text}")
endfunction()

function(proxyha_poison_tree root pattern library)
  file(GLOB_RECURSE headers RELATIVE ${root} ${root}/${pattern})
  foreach(h ${headers})
    proxyha_write_poison(${root} ${h} ${library})
  endforeach()
endfunction()

# Where the three libraries' headers are on this machine.
find_path(PROXYHA_EVENT_INCLUDE event2/event.h REQUIRED)
find_path(PROXYHA_OPENSSL_INCLUDE openssl/ssl.h REQUIRED)
find_path(PROXYHA_NL_INCLUDE netlink/netlink.h PATH_SUFFIXES libnl3 REQUIRED)
proxyha_poison_tree(${PROXYHA_EVENT_INCLUDE} "event2/*.h" libevent)
foreach(h event.h evdns.h evhttp.h evrpc.h evutil.h)
  if(EXISTS ${PROXYHA_EVENT_INCLUDE}/${h})
    proxyha_write_poison(${PROXYHA_EVENT_INCLUDE} ${h} libevent)
  endif()
endforeach()
proxyha_poison_tree(${PROXYHA_OPENSSL_INCLUDE} "openssl/*.h" OpenSSL)
proxyha_poison_tree(${PROXYHA_NL_INCLUDE} "netlink/*.h" libnl)

# Makes `target` (a core library whose headers live in `header_dir`) pure.
function(proxyha_pure_library target header_dir)
  target_include_directories(${target} BEFORE PRIVATE ${PROXYHA_POISON_DIR})
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR} ${header_dir}/*.h)
  set(checks "")
  foreach(h ${headers})
    string(MAKE_C_IDENTIFIER ${h} id)
    set(tu ${CMAKE_BINARY_DIR}/core-headers/${id}.cc)
    set(text "// Generated: ${h} builds on its own, without I/O libraries.\n#include \"${h}\"\n")
    if(NOT EXISTS ${tu})
      file(WRITE ${tu} "${text}")
    endif()
    list(APPEND checks ${tu})
  endforeach()
  target_sources(${target} PRIVATE ${checks})
endfunction()
