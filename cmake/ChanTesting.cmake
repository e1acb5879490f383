# The shared test harness (tests/harness.c: test_main(), the per-test child
# processes and their watchdog, seeds, replay lines and the summary), as a
# library every test program links. A program gets its main() either from
# tests/main.c (the harness's options only; chan_add_test_suite adds it) or
# writes its own to pass options of its own to test_main() (stress/).
add_library(chan_harness STATIC ${PROJECT_SOURCE_DIR}/tests/harness.c)
target_include_directories(chan_harness PUBLIC ${PROJECT_SOURCE_DIR}/tests)
target_compile_definitions(chan_harness PRIVATE _GNU_SOURCE)
target_link_libraries(chan_harness PUBLIC chan)
if(NOT CHAN_FIBERS)
  target_compile_definitions(chan_harness PRIVATE CHAN_NO_FIBERS=1)
endif()

# chan_add_test_suite(<target> SOURCES <files...> [LIBS <libs...>]
#                     [TIMEOUT <seconds>] [PER_IMPL | ONCE])
#
# Builds a test program on the shared harness with the default main() and
# registers it with ctest: with PER_IMPL (the default) once per registered
# implementation as <target>/<impl>, so every test runs on every
# implementation; with ONCE a single test that is not parametrized.
function(chan_add_test_suite target)
  cmake_parse_arguments(ARG "PER_IMPL;ONCE" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_executable(${target} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/main.c)
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  target_link_libraries(${target} PRIVATE chan_harness ${ARG_LIBS})
  if(ARG_ONCE)
    add_test(NAME ${target} COMMAND ${target})
    set_tests_properties(${target} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  else()
    foreach(impl IN LISTS CHAN_IMPLS)
      add_test(NAME ${target}/${impl} COMMAND ${target} --impl ${impl})
      set_tests_properties(${target}/${impl} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
    endforeach()
  endif()
endfunction()

# chan_loaded_impl_check(<check> <target> [ARGS <args...>] [LABELS <labels...>])
#
# One check a loaded implementation (chan/impl.h, --impl-lib) runs, kept in
# one list for two users: ctest runs it on the example plugin as
# plugin/<check>/example, and scripts/test.sh --impl-lib runs it on the
# user's, reading build/<preset>/impl_checks.txt (one check per line:
# <check> TAB <program> [args...]; written at the end of the top-level
# CMakeLists.txt). The implementation's name and --impl-lib come last.
function(chan_loaded_impl_check check target)
  cmake_parse_arguments(ARG "" "" "ARGS;LABELS" ${ARGN})
  list(JOIN ARG_ARGS " " args)
  set_property(GLOBAL APPEND PROPERTY CHAN_LOADED_IMPL_CHECKS
               "${check}\t$<TARGET_FILE:${target}> ${args}")
  if(TARGET chan_test_plugin_good)
    add_test(NAME plugin/${check}/example
             COMMAND ${target} ${ARG_ARGS}
                     --impl-lib $<TARGET_FILE:chan_test_plugin_good>
                     --impl example)
    set_tests_properties(plugin/${check}/example PROPERTIES TIMEOUT 900)
    if(ARG_LABELS)
      set_tests_properties(plugin/${check}/example PROPERTIES
                           LABELS "${ARG_LABELS}")
    endif()
  endif()
endfunction()
