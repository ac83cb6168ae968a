#pragma once

// Assertions for what cannot happen (Envoy's ASSERT, docs/ARCHITECTURE.md,
// "Ownership and threads"): on in debug builds and in the sanitizer presets
// (which define BRIGADE_ASSERTS), compiled out in release builds. A failure
// prints where and what, then aborts, so a sanitizer or a core dump shows the
// stack of the thread that broke the rule.
//
//   BRIGADE_ASSERT(cond)                 BRIGADE_ASSERT(cond, "why it must hold")
//   BRIGADE_ASSERT_IN_LOOP(loop)         the caller is on `loop`'s thread

#include <cstdio>
#include <cstdlib>

#if !defined(NDEBUG) || defined(BRIGADE_ASSERTS)
#define BRIGADE_ASSERTS_ENABLED 1
#else
#define BRIGADE_ASSERTS_ENABLED 0
#endif

namespace brigade::detail {

[[noreturn]] inline void assertFailed(const char* file, int line, const char* condition,
                                      const char* details) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s%s%s\n", file, line, condition,
               details[0] ? ": " : "", details);
  std::fflush(stderr);
  std::abort();
}

}  // namespace brigade::detail

#if BRIGADE_ASSERTS_ENABLED
#define BRIGADE_ASSERT(condition, ...)                                                 \
  do {                                                                                 \
    if (!(condition)) [[unlikely]] {                                                   \
      ::brigade::detail::assertFailed(__FILE__, __LINE__, #condition, "" __VA_ARGS__); \
    }                                                                                  \
  } while (false)
#else
// Not evaluated, but still compiled: a release build catches a condition that
// stopped compiling.
#define BRIGADE_ASSERT(condition, ...) \
  do {                                 \
    (void)sizeof(!(condition));        \
  } while (false)
#endif

// Loop affinity: an object that belongs to an event loop is touched only on it.
#define BRIGADE_ASSERT_IN_LOOP(loop) \
  BRIGADE_ASSERT((loop).inLoop(), "called off the event loop that owns this object")
