# The out-of-tree path a user takes (README, "Install" and "Your own
# implementation"): cmake --install this build into a scratch prefix,
# configure and build examples/plugin as its own project against that
# prefix (CMAKE_PREFIX_PATH, find_package(chanlab)), then run core test
# programs on the .so it made.
#   -DSRC=<chanlab source> -DBUILD=<this build> -DWORK=<scratch dir>
#   -DC_COMPILER=<cc> -DCORE_BASIC=<core_basic> -DCORE_CLOSE=<core_close>
# Passes when the example used the installed package, core_basic and
# core_close pass on the good plugin and core_close fails on the buggy one
# exactly at the blocked-sender test.
file(REMOVE_RECURSE "${WORK}")
set(prefix "${WORK}/prefix")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed:\n${out}${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SRC}/examples/plugin"
                        -B "${WORK}/build" -DCMAKE_C_COMPILER=${C_COMPILER}
                        "-DCMAKE_PREFIX_PATH=${prefix}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring examples/plugin failed:\n${out}${err}")
endif()
string(FIND "${out}" "the installed package in ${prefix}/" at)
if(at EQUAL -1)
  message(FATAL_ERROR "examples/plugin did not use the chanlab installed in "
          "${prefix}:\n${out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK}/build"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building examples/plugin failed:\n${out}${err}")
endif()
set(good "${WORK}/build/libchanlab_example_plugin.so")
set(buggy "${WORK}/build/libchanlab_example_plugin_buggy.so")

foreach(prog IN ITEMS "${CORE_BASIC}" "${CORE_CLOSE}")
  execute_process(COMMAND ${prog} --impl-lib ${good} --impl example
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${prog} failed on the example plugin:\n${out}${err}")
  endif()
  message(STATUS "${prog} on the example plugin: passed")
endforeach()

# The planted bug: close forgets blocked senders, which then never wake
# (the watchdog, short here, ends them).
execute_process(COMMAND ${CORE_CLOSE} --impl-lib ${buggy} --impl example
                        --executor thread --timeout 5
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(want "[ FAIL ] close_wakes_every_blocked_sender_without_delivering/example/thread")
string(FIND "${out}" "${want}" at)
if(rc EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "core_close should have failed on the buggy plugin at "
          "'${want}' (exit ${rc}):\n${out}${err}")
endif()
message(STATUS "core_close on the buggy plugin: failed as it must (${want})")
