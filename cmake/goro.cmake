# goro.cmake: the helpers that every chapter's CMakeLists.txt uses.

# goro_warnings(target): the warning flags every goro target compiles with.
function(goro_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra
    $<$<BOOL:${GORO_WERROR}>:-Werror>)
endfunction()

# goro_chapter(NN): defines the chapter in the current directory:
#   goro_chNN / goro::chNN   the library, from src/*.cpp, header include/goro/goro.hpp
#   goro_chNN_tests          one GoogleTest executable: tests/*.cpp here, plus the
#                            whole-system tests of tests/ that apply (added there)
#   chNN_<demo>              one executable per examples/<demo>.cpp
function(goro_chapter NN)
  set(lib goro_ch${NN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  add_library(${lib} STATIC ${sources})
  add_library(goro::ch${NN} ALIAS ${lib})
  target_include_directories(${lib}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${lib} PUBLIC goro::common)
  target_compile_definitions(${lib} PUBLIC GORO_CHAPTER=${NN})
  goro_warnings(${lib})

  if(GORO_BUILD_TESTS)
    set(tests goro_ch${NN}_tests)
    file(GLOB test_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/*.cpp)
    add_executable(${tests} ${test_sources})
    target_link_libraries(${tests} PRIVATE ${lib} goro_test_support GTest::gtest_main)
    target_include_directories(${tests} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    # GoogleTest's header is most of what a test file costs to compile.
    target_precompile_headers(${tests} PRIVATE <gtest/gtest.h> <atomic> <chrono> <vector>)
    goro_warnings(${tests})
    gtest_discover_tests(${tests}
      TEST_PREFIX "ch${NN}."
      PROPERTIES LABELS "ch${NN}"
      DISCOVERY_TIMEOUT 60)
  endif()

  if(GORO_BUILD_EXAMPLES)
    file(GLOB demos CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/examples/*.cpp)
    foreach(src IN LISTS demos)
      get_filename_component(name ${src} NAME_WE)
      add_executable(ch${NN}_${name} ${src})
      target_link_libraries(ch${NN}_${name} PRIVATE ${lib})
      goro_warnings(ch${NN}_${name})
      set_property(GLOBAL APPEND PROPERTY GORO_DEMOS ch${NN}_${name})
    endforeach()
  endif()
endfunction()
