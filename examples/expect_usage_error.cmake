# Runs PROG with ARGS and passes only if it exits with status 2 and prints
# MESSAGE (a bad command line is a clear error, never a crash or a run).
execute_process(COMMAND ${PROG} ${ARGS} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "expected exit status 2, got '${rc}'\n${out}${err}")
endif()
string(FIND "${err}" "${MESSAGE}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "expected '${MESSAGE}' in:\n${err}")
endif()
