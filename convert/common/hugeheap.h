/* hugeheap.h — transparent huge pages for a converter's heap (hugeheap.c). */
#ifndef MS_HUGEHEAP_H
#define MS_HUGEHEAP_H

/* Call first in main. Given a large input file, where the kernel gives
 * huge pages on request, re-executes the program once with glibc's
 * malloc asking for them (returns only when it does not); in that second
 * image, restores the environment as the user had it and returns. */
void ms_cli_hugeheap(int argc, char **argv);

#endif
