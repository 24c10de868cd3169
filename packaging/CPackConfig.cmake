# SPDX-License-Identifier: GPL-3.0-or-later
# `cpack -G DEB` in a build folder makes dglm-writer_VERSION_ARCH.deb. Its dependencies are read from the
# binaries (dpkg-shlibdeps), so they resolve to Debian's own LibTorch, Qt 6 and QCustomPlot packages.
# Debian's layout (the plugin under /usr/lib/<multiarch>/dglm-writer) follows from configuring the build with
# -DCMAKE_INSTALL_PREFIX=/usr: only then does GNUInstallDirs pick the multiarch library folder.
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "CPack DEB: configure with -DCMAKE_INSTALL_PREFIX=/usr for Debian's multiarch library folder")
endif()
set(CPACK_PACKAGE_NAME dglm-writer)
set(CPACK_PACKAGE_VENDOR "DGLM Writer developers")
set(CPACK_PACKAGE_CONTACT "DGLM Writer developers <dev@dglm-writer.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Writing assistant that steers a local language model (diffusion-guided)")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION editors)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/lib)
# LibTorch only needs "some libblas.so.3"; the reference BLAS makes it ~20x slower.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-openmp")
include(CPack)
