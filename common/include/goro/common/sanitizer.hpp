// sanitizer.hpp: tells AddressSanitizer and ThreadSanitizer about goroutine
// switches (their "fiber" interfaces). Introduced in chapter 01; no chapter
// changes it. Every function here is a no-op in a build without sanitizers.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define GORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define GORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif

#if GORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if GORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/// The sanitizers' fiber interfaces, as no-ops when built without them.
namespace goro::common::san {

/// True when built with AddressSanitizer.
inline constexpr bool asan =
#if GORO_ASAN
    true;
#else
    false;
#endif

/// True when built with ThreadSanitizer.
inline constexpr bool tsan =
#if GORO_TSAN
    true;
#else
    false;
#endif

/// start_switch announces to ASan that this thread leaves its stack for the
/// stack [to_lo, to_lo+to_size). `fake_stack_save` is null when the context
/// being left will never run again.
inline void start_switch(void** fake_stack_save, const void* to_lo,
                         std::size_t to_size) {
#if GORO_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, to_lo, to_size);
#else
  (void)fake_stack_save, (void)to_lo, (void)to_size;
#endif
}

/// finish_switch completes the switch on the arriving side; it reports the
/// bounds of the stack we came from.
inline void finish_switch(void* fake_stack_save, const void** from_lo,
                          std::size_t* from_size) {
#if GORO_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_save, from_lo, from_size);
#else
  (void)fake_stack_save, (void)from_lo, (void)from_size;
#endif
}

/// unpoison_top clears ASan's marks on the top 16 KiB of a stack that is
/// about to be reused: a goroutine that exited left poisoned redzones only
/// in the frames still live when it switched away for good, which are the
/// first frames of the stack. (The whole stack would cost 32 KiB of shadow
/// writes per goroutine.)
inline void unpoison_top(void* lo, std::size_t size) {
#if GORO_ASAN
  const std::size_t top = size < 16 * 1024 ? size : 16 * 1024;
  __asan_unpoison_memory_region(static_cast<char*>(lo) + (size - top), top);
#else
  (void)lo, (void)size;
#endif
}

/// tsan_current returns TSan's fiber for the running thread.
inline void* tsan_current() {
#if GORO_TSAN
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}

/// tsan_create makes a new TSan fiber.
inline void* tsan_create() {
#if GORO_TSAN
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}

/// tsan_destroy frees a TSan fiber that is not running.
inline void tsan_destroy(void* fiber) {
#if GORO_TSAN
  __tsan_destroy_fiber(fiber);
#else
  (void)fiber;
#endif
}

/// tsan_switch must be called immediately before the switch. Flags 0: the
/// switch is a synchronisation point, as it is for goroutines (what happened
/// before a switch happens-before what the resumed context does next).
inline void tsan_switch(void* fiber) {
#if GORO_TSAN
  __tsan_switch_to_fiber(fiber, 0);
#else
  (void)fiber;
#endif
}

}  // namespace goro::common::san
