# goro.cmake: the helpers that every chapter's CMakeLists.txt uses.

# goro_warnings(target): the warning flags every goro target compiles with.
function(goro_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra
    $<$<BOOL:${GORO_WERROR}>:-Werror>)
endfunction()

# goro_lock_checks(target): Clang checks the runtime's lock annotations
# (GORO_GUARDED_BY, GORO_REQUIRES... in goro/common/lock.hpp) at compile
# time; other compilers ignore them. On the runtime's libraries only: tests
# read its fields freely once goroutines are done.
function(goro_lock_checks target)
  target_compile_options(${target} PRIVATE
    $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety -Wthread-safety-beta>)
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
  # The chapter as a plain number (5, not 05: 08 would be a bad octal
  # literal in `#if GORO_CHAPTER >= 5`).
  math(EXPR number "1${NN} - 100")
  target_compile_definitions(${lib} PUBLIC GORO_CHAPTER=${number})
  goro_warnings(${lib})
  goro_lock_checks(${lib})

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
