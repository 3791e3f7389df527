/* On-the-fly symbols for msconv (symbolize.c). */
#ifndef MSCONV_SYMBOLIZE_H
#define MSCONV_SYMBOLIZE_H
/* Let every heap load of this process resolve the stack ips that have no
 * SYMBOL record with libmssym (flags: MSSYM_*), from the files on this
 * machine whose build ids match the trace's MODULE records. */
void msconv_symbolize_install(unsigned flags);
#endif
