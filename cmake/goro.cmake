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
#   chNN_article_<name>      the article's programs, from article/ (goro_article)
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

  goro_article(${NN})
endfunction()

# goro_article(NN): the article's example programs that chapter NN can run,
# each a Go program article/<name>.go as the article has it and its C++
# twin article/<name>.cpp, which prints the same lines:
#   chNN_article_<name>      the C++ program, against goro::chNN
#   chNN_article_<name>_go   builds the Go program, article-go/<name> in the
#                            chapter's build folder (standard library only,
#                            no network; needs `go`)
#   test chNN.article.<name> runs both with GOMAXPROCS=1 and fails unless they
#                            print the same lines, in any order, and exit 0
#                            (cmake/article_compare.sh; `./goro.sh article NN`
#                            shows them side by side)
# Built with the tests or the examples, so the sanitizer builds, which have
# no examples, run them too. Not demos: run_demos leaves them out.
function(goro_article NN)
  if(NOT (GORO_BUILD_TESTS OR GORO_BUILD_EXAMPLES))
    return()
  endif()
  file(GLOB programs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/article/*.cpp)
  if(NOT programs)
    return()
  endif()
  find_program(GORO_GO go DOC "The Go command, for the article's Go programs")
  find_program(GORO_BASH bash DOC "bash, for cmake/article_compare.sh")
  get_property(told GLOBAL PROPERTY GORO_ARTICLE_TOLD)
  if(NOT GORO_GO AND NOT told)
    message(NOTICE "goro: no `go` command found: the article's Go programs are not "
      "built and the tests chNN.article.* that compare them with goro are skipped "
      "(install golang-go, or set GORO_GO to the go command, and configure again)")
    set_property(GLOBAL PROPERTY GORO_ARTICLE_TOLD TRUE)
  endif()
  set(go_env GOCACHE=${CMAKE_BINARY_DIR}/go-cache GOPATH=${CMAKE_BINARY_DIR}/go-path
    GOPROXY=off GOFLAGS=-buildvcs=false GO111MODULE=on GOENV=off CGO_ENABLED=0)

  foreach(src IN LISTS programs)
    get_filename_component(name ${src} NAME_WE)
    set(cpp ch${NN}_article_${name})
    add_executable(${cpp} ${src})
    target_link_libraries(${cpp} PRIVATE goro_ch${NN})
    goro_warnings(${cpp})

    set(go_src ${CMAKE_CURRENT_SOURCE_DIR}/article/${name}.go)
    if(NOT GORO_GO OR NOT EXISTS ${go_src})
      continue()
    endif()
    # Each chapter builds its own copy: a chapter is a complete tree. The
    # shared GOCACHE makes the copies after the first cost only a link.
    set(go_bin ${CMAKE_CURRENT_BINARY_DIR}/article-go/${name})
    add_custom_command(OUTPUT ${go_bin}
      COMMAND ${CMAKE_COMMAND} -E env ${go_env} ${GORO_GO} build -o ${go_bin} ${go_src}
      DEPENDS ${go_src}
      WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/article
      COMMENT "Building the article's Go program ${name}.go (chapter ${NN})"
      VERBATIM)
    add_custom_target(${cpp}_go ALL DEPENDS ${go_bin})

    if(GORO_BUILD_TESTS AND GORO_BASH)
      add_test(NAME ch${NN}.article.${name}
        COMMAND ${GORO_BASH} ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/article_compare.sh
                ${go_bin} $<TARGET_FILE:${cpp}>)
      set_tests_properties(ch${NN}.article.${name} PROPERTIES LABELS "ch${NN}" TIMEOUT 180)
    endif()
  endforeach()
endfunction()
