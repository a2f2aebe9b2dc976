// FUZZ_CHECK: a property a fuzz target asserts about the code under test. A failure prints
// the condition and aborts, which libFuzzer reports as a crash (and writes the input) and the
// replay test as a failure; plain assert() would vanish under NDEBUG.
#ifndef MARKETSEARCH_FUZZ_FUZZ_CHECK_H_
#define MARKETSEARCH_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                          \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s: %s\n", __FILE__, __LINE__, \
                   #cond, (what));                                                      \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

#endif  // MARKETSEARCH_FUZZ_FUZZ_CHECK_H_
