# Install rules and the two Debian packages (CPack DEB), included at the end
# of the top-level CMakeLists.txt.
#
#   cmake --build build --target package
#
# leaves build/proxyd_<version>-1_<arch>.deb and build/vrrpd_<version>-1_<arch>.deb
# (e.g. proxyd_0.1.0-1_amd64.deb). Every path is absolute and Debian's, so
# `cmake --install build` (or with DESTDIR=...) lays out exactly what the
# packages hold. Only the components `proxyd` and `vrrpd` are packaged: an
# install() rule elsewhere without COMPONENT lands in "Unspecified" and
# stays out of both packages.

set(PROXYHA_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})
set(PROXYHA_REPO_DIR ${CMAKE_CURRENT_LIST_DIR}/..)

# --- Man pages: hand-written troff, the version (@PROXYHA_MAN_VERSION@, the
# major.minor of project(VERSION)) filled in at configure time, gzipped at
# build (gzip -n: no name or time stamp inside, so the packages are
# reproducible). -------------------------------------------------------------
set(PROXYHA_MAN_OUT ${CMAKE_BINARY_DIR}/man)
set(PROXYHA_MAN_VERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(PROXYHA_MAN_GZ)
foreach(page proxyd.8 vrrpd.8 proxyd.ini.5 vrrpd.ini.5)
  set(src ${PROXYHA_MAN_OUT}/src/${page})
  configure_file(${PROXYHA_PKG_DIR}/man/${page} ${src} @ONLY)
  set(out ${PROXYHA_MAN_OUT}/${page}.gz)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROXYHA_MAN_OUT}
    COMMAND ${CMAKE_COMMAND} -E copy ${src} ${PROXYHA_MAN_OUT}/${page}
    COMMAND gzip -9nf ${PROXYHA_MAN_OUT}/${page}
    DEPENDS ${src}
    COMMENT "gzip man page ${page}"
    VERBATIM)
  list(APPEND PROXYHA_MAN_GZ ${out})
endforeach()
add_custom_target(man_pages ALL DEPENDS ${PROXYHA_MAN_GZ})

# --- proxyd -----------------------------------------------------------------
install(TARGETS proxyd RUNTIME DESTINATION /usr/sbin COMPONENT proxyd)
install(FILES ${PROXYHA_PKG_DIR}/proxyd.service
  DESTINATION /lib/systemd/system COMPONENT proxyd)
install(FILES ${PROXYHA_PKG_DIR}/proxyd.ini
  DESTINATION /etc/proxyd COMPONENT proxyd)
install(FILES ${PROXYHA_PKG_DIR}/proxyd.logrotate
  DESTINATION /etc/logrotate.d RENAME proxyd COMPONENT proxyd)
install(FILES ${PROXYHA_MAN_OUT}/proxyd.8.gz
  DESTINATION /usr/share/man/man8 COMPONENT proxyd)
install(FILES ${PROXYHA_MAN_OUT}/proxyd.ini.5.gz
  DESTINATION /usr/share/man/man5 COMPONENT proxyd)
install(FILES ${PROXYHA_REPO_DIR}/README.md
  DESTINATION /usr/share/doc/proxyd COMPONENT proxyd)
# The examples' proxyd configs with their READMEs (examples/demo/ is the
# namespace demo of the source tree, not an example config).
install(DIRECTORY ${PROXYHA_REPO_DIR}/examples/
  DESTINATION /usr/share/doc/proxyd/examples COMPONENT proxyd
  FILES_MATCHING PATTERN "proxyd*.ini" PATTERN "README.md"
  PATTERN "demo" EXCLUDE)

# --- vrrpd (with the track scripts) -----------------------------------------
if(TARGET vrrpd)
  install(TARGETS vrrpd RUNTIME DESTINATION /usr/sbin COMPONENT vrrpd)
  install(FILES ${PROXYHA_PKG_DIR}/vrrpd.service
    DESTINATION /lib/systemd/system COMPONENT vrrpd)
  install(FILES ${PROXYHA_PKG_DIR}/vrrpd.ini
    DESTINATION /etc/vrrpd COMPONENT vrrpd)
  # Mode 0755, owned by root: what enable_script_security asks for, and
  # executable by script_user (checks/README.md).
  install(PROGRAMS
      ${PROXYHA_REPO_DIR}/checks/check_proxyd.sh
      ${PROXYHA_REPO_DIR}/checks/check_proxyd_ready.sh
      ${PROXYHA_REPO_DIR}/checks/check_tcp.sh
    DESTINATION /usr/libexec/vrrpd COMPONENT vrrpd)
  install(FILES ${PROXYHA_MAN_OUT}/vrrpd.8.gz
    DESTINATION /usr/share/man/man8 COMPONENT vrrpd)
  install(FILES ${PROXYHA_MAN_OUT}/vrrpd.ini.5.gz
    DESTINATION /usr/share/man/man5 COMPONENT vrrpd)
  install(FILES ${PROXYHA_REPO_DIR}/README.md
    DESTINATION /usr/share/doc/vrrpd COMPONENT vrrpd)
  install(FILES ${PROXYHA_REPO_DIR}/checks/README.md
    DESTINATION /usr/share/doc/vrrpd RENAME README.checks.md COMPONENT vrrpd)
  install(DIRECTORY ${PROXYHA_REPO_DIR}/examples/
    DESTINATION /usr/share/doc/vrrpd/examples COMPONENT vrrpd
    FILES_MATCHING PATTERN "vrrpd*.ini" PATTERN "README.md"
    PATTERN "demo" EXCLUDE)
endif()

# --- CPack: one .deb per component ------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME proxyha)
set(CPACK_PACKAGE_VENDOR "proxyha")
set(CPACK_PACKAGE_CONTACT "proxyha maintainers <root@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would put it above both
# packages' own first lines; each component's description starts with its summary.
# Beside the build (build/*.deb); CPack's scratch tree is build/_CPack_Packages.
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL proxyd vrrpd)
if(NOT TARGET vrrpd)
  set(CPACK_COMPONENTS_ALL proxyd)
endif()
# <name>_<version>-<release>_<arch>.deb, Debian's own naming.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from the binaries (dpkg-shlibdeps, in dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Maintainer scripts 0755 and conffiles 0644 whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

set(CPACK_DEBIAN_PROXYD_PACKAGE_NAME proxyd)
set(CPACK_DEBIAN_PROXYD_PACKAGE_SECTION net)
# adduser: the postinst creates the proxyd user. logrotate only recommended.
set(CPACK_DEBIAN_PROXYD_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PROXYD_PACKAGE_RECOMMENDS "logrotate")
set(CPACK_DEBIAN_PROXYD_PACKAGE_SUGGESTS "vrrpd")
set(CPACK_COMPONENT_PROXYD_DESCRIPTION
  "TCP stream proxy with nginx stream semantics\n\
proxyd replaces nginx's stream module in front of a Kubernetes control plane\n\
or any TCP service: upstream groups with nginx's balancers (consistent hash\n\
picks the same server as nginx), max_fails/fail_timeout, retries, nginx's\n\
access-log lines and a status page for vrrpd's track scripts.")
set(CPACK_DEBIAN_PROXYD_PACKAGE_CONTROL_EXTRA
  "${PROXYHA_PKG_DIR}/deb/proxyd/conffiles;${PROXYHA_PKG_DIR}/deb/proxyd/postinst;${PROXYHA_PKG_DIR}/deb/proxyd/prerm;${PROXYHA_PKG_DIR}/deb/proxyd/postrm")

set(CPACK_DEBIAN_VRRPD_PACKAGE_NAME vrrpd)
set(CPACK_DEBIAN_VRRPD_PACKAGE_SECTION net)
# The track scripts need bash and curl; adduser for vrrpd_script.
set(CPACK_DEBIAN_VRRPD_PACKAGE_DEPENDS "adduser, bash, curl, coreutils")
set(CPACK_DEBIAN_VRRPD_PACKAGE_RECOMMENDS "proxyd")
# No Conflicts: keepalived: during a migration both may be installed (stop
# one, start the other, and back), as long as only one of them runs.
set(CPACK_COMPONENT_VRRPD_DESCRIPTION
  "VRRP daemon moving virtual IPs (keepalived replacement)\n\
vrrpd elects a master among two or three nodes with VRRP (v2 with PASS\n\
authentication, v3 over IPv4 and IPv6), adds and removes the virtual IPs,\n\
announces them with gratuitous ARP / unsolicited NA and runs track scripts.\n\
It speaks keepalived's wire protocol, so mixed clusters work while migrating.\n\
The track scripts for proxyd are in /usr/libexec/vrrpd.")
set(CPACK_DEBIAN_VRRPD_PACKAGE_CONTROL_EXTRA
  "${PROXYHA_PKG_DIR}/deb/vrrpd/conffiles;${PROXYHA_PKG_DIR}/deb/vrrpd/postinst;${PROXYHA_PKG_DIR}/deb/vrrpd/prerm;${PROXYHA_PKG_DIR}/deb/vrrpd/postrm")

include(CPack)
