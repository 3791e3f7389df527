/* Tiny assertion helpers for unit tests: each CHECK prints a PASS or FAIL
 * line that tests/run.sh counts; main returns ms_test_failures != 0. */
#ifndef MSTEST_H
#define MSTEST_H
#include <stdio.h>
#include <string.h>
#include <inttypes.h>
static int ms_test_failures;
#define CHECK(name, cond) do { if (cond) printf("PASS: %s\n", name); \
    else { printf("FAIL: %s: %s (%s:%d)\n", name, #cond, __FILE__, __LINE__); ms_test_failures++; } } while (0)
#define CHECK_EQ_U64(name, exp, got) do { uint64_t e_ = (uint64_t)(exp), g_ = (uint64_t)(got); \
    if (e_ == g_) printf("PASS: %s\n", name); else { printf("FAIL: %s: expected %" PRIu64 ", got %" PRIu64 " (%s:%d)\n", \
    name, e_, g_, __FILE__, __LINE__); ms_test_failures++; } } while (0)
#define CHECK_STR(name, exp, got) do { const char *e_ = (exp), *g_ = (got); \
    if (g_ && strcmp(e_, g_) == 0) printf("PASS: %s\n", name); else { printf("FAIL: %s: expected '%s', got '%s' (%s:%d)\n", \
    name, e_, g_ ? g_ : "(null)", __FILE__, __LINE__); ms_test_failures++; } } while (0)
#endif
