# chan_add_test_suite(<target> SOURCES <files...> [LIBS <libs...>]
#                     [TIMEOUT <seconds>] [PER_IMPL | ONCE])
#
# Builds a test program on the shared harness (tests/harness.c, which owns
# main(), the watchdog, seeds and the summary line) and registers it with
# ctest: with PER_IMPL (the default) once per registered implementation as
# <target>/<impl>, so every test runs on every implementation; with ONCE a
# single test that is not parametrized.
function(chan_add_test_suite target)
  cmake_parse_arguments(ARG "PER_IMPL;ONCE" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_executable(${target} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/tests/harness.c)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  target_link_libraries(${target} PRIVATE chan ${ARG_LIBS})
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
