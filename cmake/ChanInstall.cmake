# cmake --install <build> [--prefix P]: the public headers, libchan.a and
# libchan.so, chanlab.pc and the CMake package (find_package(chanlab)).
# Included at the end of the top-level CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The fiber runtime (and its Boost.Context and hwloc) is built in unless
# CHAN_FIBERS says otherwise.
if(NOT DEFINED CHAN_FIBERS OR CHAN_FIBERS)
  set(CHAN_INSTALL_FIBERS ON)
else()
  set(CHAN_INSTALL_FIBERS OFF)
endif()

# libchan.so: the same objects as libchan.a. Under 0.x a minor release may
# change the ABI, so the soname carries major.minor.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(CHAN_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(CHAN_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()
set_target_properties(chan_shared PROPERTIES
  OUTPUT_NAME chan EXPORT_NAME chan
  VERSION ${PROJECT_VERSION} SOVERSION ${CHAN_SOVERSION}
  LINK_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/libchan.map)
# Only the chan_ API is exported (cmake/libchan.map); the cl_ internals are
# local. Every symbol must resolve (not under the sanitizers, whose
# runtimes only the executable links).
target_link_options(chan_shared PRIVATE
  "LINKER:--version-script=${CMAKE_CURRENT_LIST_DIR}/libchan.map")
if(CHAN_SANITIZER STREQUAL "")
  target_link_options(chan_shared PRIVATE "LINKER:--no-undefined")
endif()
set_target_properties(chan PROPERTIES EXPORT_NAME chan_static)
if(CHAN_INSTALL_FIBERS)
  # What an installed libchan.a links for the fibers (the config file
  # finds them).
  target_link_libraries(chan PUBLIC
    $<INSTALL_INTERFACE:chanlab::boost_context> $<INSTALL_INTERFACE:PkgConfig::chanlab_hwloc>)
endif()

# The headers alone, for plugins (chanlab::headers).
add_library(chan_headers INTERFACE)
set_target_properties(chan_headers PROPERTIES EXPORT_NAME headers)
target_include_directories(chan_headers INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>)

file(GLOB CHAN_PUBLIC_HEADERS ${PROJECT_SOURCE_DIR}/include/chan/*.h)
install(FILES ${CHAN_PUBLIC_HEADERS}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/chan)
install(TARGETS chan chan_shared chan_headers EXPORT chanlab-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(CHAN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/chanlab)
install(EXPORT chanlab-targets NAMESPACE chanlab::
        FILE chanlab-targets.cmake DESTINATION ${CHAN_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/chanlab-config.cmake.in
  ${PROJECT_BINARY_DIR}/chanlab-config.cmake
  INSTALL_DESTINATION ${CHAN_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/chanlab-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/chanlab-config.cmake
              ${PROJECT_BINARY_DIR}/chanlab-config-version.cmake
        DESTINATION ${CHAN_CMAKE_DIR})

# chanlab.pc, relocatable: its prefix is found from its own directory, so
# cmake --install --prefix anywhere gives a right file.
set(CHAN_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CHAN_PC_DIR}")
  message(FATAL_ERROR "chanlab: CMAKE_INSTALL_LIBDIR must be relative for chanlab.pc")
endif()
file(RELATIVE_PATH CHAN_PC_RELPREFIX /${CHAN_PC_DIR} /)
string(REGEX REPLACE "/$" "" CHAN_PC_RELPREFIX "${CHAN_PC_RELPREFIX}")
set(CHAN_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
set(CHAN_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
set(CHAN_PC_LIBS_PRIVATE "-pthread")
if(CMAKE_DL_LIBS)
  string(APPEND CHAN_PC_LIBS_PRIVATE " -l${CMAKE_DL_LIBS}")
endif()
set(CHAN_PC_REQUIRES_PRIVATE "")
if(CHAN_INSTALL_FIBERS)
  string(APPEND CHAN_PC_LIBS_PRIVATE " -lboost_context")
  set(CHAN_PC_REQUIRES_PRIVATE "hwloc")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/chanlab.pc.in
               ${PROJECT_BINARY_DIR}/chanlab.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/chanlab.pc DESTINATION ${CHAN_PC_DIR})
