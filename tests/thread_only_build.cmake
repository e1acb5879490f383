# The thread-only libchan (README, "Thread-only build"): configure and
# build this tree again with -DCHAN_FIBERS=OFF in a scratch directory,
# only the targets checked here, then
#   (a) run core_basic, core_close and core_select on the thread executor,
#       and check that --executor fiber is a usage error there;
#   (b) check that libchan.a and a program linked with it reference no
#       Boost.Context or hwloc symbol, and that no link line names them;
#   (c) run nofiber_probe: chan_rt_start, chan_fiber_spawn and the other
#       fiber calls return CHAN_ENOTSUP with a message naming CHAN_FIBERS.
#   -DSRC=<chanlab source> -DWORK=<scratch dir> -DC_COMPILER=<cc>
#   -DGENERATOR=<cmake generator> -DNM=<nm> -DC_FLAGS=<release C flags>
file(REMOVE_RECURSE "${WORK}")
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SRC}" -B "${WORK}"
                        -G "${GENERATOR}" -DCMAKE_C_COMPILER=${C_COMPILER}
                        -DCMAKE_BUILD_TYPE=Release
                        "-DCMAKE_C_FLAGS_RELEASE=${C_FLAGS}" -DCHAN_FIBERS=OFF
                        -DCHAN_BUILD_BENCH=OFF -DCHAN_BUILD_STRESS=OFF
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring with CHAN_FIBERS=OFF failed:\n${out}${err}")
endif()
foreach(word IN ITEMS "boost_context" "Boost.Context" "hwloc")
  string(FIND "${out}" "${word}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "the CHAN_FIBERS=OFF configure mentions ${word}:\n${out}")
  endif()
endforeach()
set(targets chan core_basic core_close core_select nofiber_probe)
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK}" -j2 --target ${targets}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the thread-only targets failed:\n${out}${err}")
endif()

# (a) the core suites on threads.
foreach(suite core_basic core_close core_select)
  execute_process(COMMAND "${WORK}/tests/${suite}" --executor thread
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${suite} failed in the thread-only build:\n${out}${err}")
  endif()
  string(REGEX MATCH "[0-9]+ passed, 0 failed" summary "${out}")
  message(STATUS "${suite} --executor thread (CHAN_FIBERS=OFF): ${summary}")
endforeach()
execute_process(COMMAND "${WORK}/tests/core_basic" --executor fiber
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(FIND "${err}" "built without the fiber runtime (CHAN_FIBERS=OFF)" at)
if(NOT rc EQUAL 2 OR at EQUAL -1)
  message(FATAL_ERROR "--executor fiber should be a usage error (exit 2) "
          "naming CHAN_FIBERS=OFF; got exit ${rc}:\n${out}${err}")
endif()
message(STATUS "--executor fiber: usage error, as it must be")

# (b) no Boost.Context or hwloc: not in the library's symbols, not in the
# program's, not on any link line.
foreach(file IN ITEMS "${WORK}/libchan.a" "${WORK}/tests/nofiber_probe")
  execute_process(COMMAND ${NM} "${file}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} ${file} failed:\n${err}")
  endif()
  string(REGEX MATCHALL "[^\n]*(jump_fcontext|make_fcontext|ontop_fcontext|hwloc_)[^\n]*"
         bad "${out}")
  if(bad)
    message(FATAL_ERROR "${file} references the fiber runtime's "
            "dependencies:\n${bad}")
  endif()
  message(STATUS "${file}: no fcontext or hwloc symbol")
endforeach()
file(GLOB_RECURSE link_files "${WORK}/build.ninja" "${WORK}/*link.txt")
foreach(f IN LISTS link_files)
  file(STRINGS "${f}" lines REGEX "boost_context|hwloc")
  if(lines)
    message(FATAL_ERROR "${f} links Boost.Context or hwloc:\n${lines}")
  endif()
endforeach()

# (c) the fiber calls say CHAN_ENOTSUP.
execute_process(COMMAND "${WORK}/tests/nofiber_probe"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nofiber_probe failed:\n${out}${err}")
endif()
message(STATUS "${out}")
