# run_demo.cmake: runs one demo (DEMO), shows its output and keeps a copy
# in OUT for the docs. Fails if the demo fails.
get_filename_component(dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${dir})
execute_process(COMMAND ${DEMO}
  OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
file(WRITE ${OUT} "${out}")
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${DEMO} failed with status ${rc}")
endif()
