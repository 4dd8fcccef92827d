// fatal.hpp: ending the program the way Go's runtime does (runtime/panic.go:
// throw and fatal). Introduced in chapter 01; no chapter changes it.
#pragma once

namespace goro::common {

/// fatal ends the program for an error the user caused and cannot recover
/// from, as Go's runtime.fatal: "fatal error: <msg>" on stderr, exit status 2.
[[noreturn]] void fatal(const char* msg);

/// throw_ ends the program for a broken runtime invariant, as Go's
/// runtime.throw (same output, same status; the name marks a goro bug).
[[noreturn]] void throw_(const char* msg);

/// write_err writes a string to stderr with write(2) only (async-signal-safe).
void write_err(const char* s);

/// format_long writes the decimal form of v into buf (at least 24 bytes) and
/// returns buf; async-signal-safe.
const char* format_long(long v, char* buf);

}  // namespace goro::common
