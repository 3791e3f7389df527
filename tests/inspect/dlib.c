/* Tiny library for the inspect test: dlopen'd, called, dlclose'd; the
 * return address insp_dl_outer leaves in insp_dl_inner must still be
 * symbolized after the dlclose (from the file on disk). */
#include <stdint.h>

int insp_dl_line;

__attribute__((noinline)) uint64_t insp_dl_inner(void)
{
    __asm__ volatile("");
    return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

__attribute__((noinline)) uint64_t insp_dl_outer(void)
{
    uint64_t r = insp_dl_inner(); insp_dl_line = __LINE__;
    __asm__ volatile("");
    return r + 0 * (uint64_t)insp_dl_line;
}
