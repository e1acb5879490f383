# The installed chanlab, as a user meets it: cmake --install this build
# into a scratch prefix, check that nothing installed names the source or
# build tree, then build tests/install_consumer/consumer.c against the
# prefix (find_package(chanlab) on libchan.so and libchan.a; pkg-config,
# shared and --static) and run each.
#   -DSRC=<chanlab source> -DBUILD=<this build> -DWORK=<scratch dir>
#   -DC_COMPILER=<cc>
file(REMOVE_RECURSE "${WORK}")
set(prefix "${WORK}/prefix")
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

run("cmake --install" ${CMAKE_COMMAND} --install "${BUILD}" --prefix "${prefix}")
foreach(f IN ITEMS include/chan/chan.h include/chan/impl.h lib/libchan.a
               lib/libchan.so lib/pkgconfig/chanlab.pc
               lib/cmake/chanlab/chanlab-config.cmake
               lib/cmake/chanlab/chanlab-config-version.cmake)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${prefix}/${f}")
  endif()
endforeach()
file(GLOB configs "${prefix}/lib/cmake/chanlab/*.cmake")
foreach(f IN LISTS configs ITEMS "${prefix}/lib/pkgconfig/chanlab.pc")
  file(READ "${f}" text)
  foreach(tree IN ITEMS "${SRC}" "${BUILD}")
    string(FIND "${text}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} names the tree it was built in (${tree})")
    endif()
  endforeach()
endforeach()
message(STATUS "installed into ${prefix}; no installed file names ${SRC}")

# find_package(chanlab): chanlab::chan (libchan.so) and chanlab::chan_static.
run("configuring tests/install_consumer" ${CMAKE_COMMAND}
    -S "${SRC}/tests/install_consumer" -B "${WORK}/cmake"
    -DCMAKE_C_COMPILER=${C_COMPILER} "-DCMAKE_PREFIX_PATH=${prefix}")
run("building tests/install_consumer" ${CMAKE_COMMAND} --build "${WORK}/cmake")
run("find_package consumer (libchan.so)" "${WORK}/cmake/consumer")
run("ldd" ldd "${WORK}/cmake/consumer")
string(FIND "${out}" "${prefix}/lib/libchan.so" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the consumer does not run on the installed libchan.so:\n${out}")
endif()
run("find_package consumer (libchan.a)" "${WORK}/cmake/consumer_static")
message(STATUS "find_package(chanlab): shared and static consumers passed")

# pkg-config, as a user types it.
set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
run("pkg-config" pkg-config --cflags --libs chanlab)
separate_arguments(flags UNIX_COMMAND "${out}")
run("cc $(pkg-config --cflags --libs chanlab)" ${C_COMPILER} -std=c11
    -o "${WORK}/pc_consumer" "${SRC}/tests/install_consumer/consumer.c" ${flags})
run("pkg-config consumer" ${CMAKE_COMMAND} -E env
    "LD_LIBRARY_PATH=${prefix}/lib" "${WORK}/pc_consumer")
message(STATUS "pkg-config consumer (libchan.so) passed")
# --static: libchan.a (named outright: -lchan would take the .so) and the
# private libraries. It needs every dependency's static library too (hwloc's
# pull in libudev's, which Debian ships only shared): so where the system
# lacks them this says so and stops here.
run("pkg-config --static" pkg-config --static --libs chanlab)
string(REGEX REPLACE "-lchan( |$)" "-l:libchan.a\\1" out "${out}")
separate_arguments(flags UNIX_COMMAND "${out}")
execute_process(COMMAND ${C_COMPILER} -std=c11 -o "${WORK}/pc_consumer_static"
                        "${SRC}/tests/install_consumer/consumer.c"
                        -I${prefix}/include ${flags}
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc EQUAL 0)
  message(STATUS "pkg-config --static: not linkable here (a dependency's "
          "static library is missing), skipped:\n${e}")
else()
  run("pkg-config --static consumer" "${WORK}/pc_consumer_static")
  message(STATUS "pkg-config --static consumer passed")
endif()
