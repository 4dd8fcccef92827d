// fatal.cpp: fatal errors, printed the way Go prints them. Chapter 01.
#include "goro/common/fatal.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace goro::common {

void write_err(const char* s) {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

const char* format_long(long v, char* buf) {
  char tmp[24];
  int n = 0;
  unsigned long u = v < 0 ? 0UL - static_cast<unsigned long>(v)
                          : static_cast<unsigned long>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  int i = 0;
  if (v < 0) buf[i++] = '-';
  while (n > 0) buf[i++] = tmp[--n];
  buf[i] = '\0';
  return buf;
}

void fatal(const char* msg) {
  std::fflush(nullptr);  // what the program printed before goes out first
  write_err("fatal error: ");
  write_err(msg);
  write_err("\n");
  _exit(2);
}

void throw_(const char* msg) { fatal(msg); }

}  // namespace goro::common

// ---- panic_exit (closure.hpp) ----
#include <exception>
#include <string>

#include "goro/common/closure.hpp"

namespace goro::common {

void panic_exit(long goid, std::exception_ptr e) {
  std::string what = "unknown C++ exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  std::fflush(nullptr);
  char buf[24];
  write_err("panic: ");
  write_err(what.c_str());
  write_err("\n\ngoroutine ");
  write_err(format_long(goid, buf));
  write_err(" [running]:\n");
  _exit(2);
}

}  // namespace goro::common
