/* msconv --pprof OUT: a heap trace as a gzipped pprof profile.proto
 * (convert/msconv/pprof_proto.c), one entry of main.c's mode table. */
#ifndef MSCONV_PPROF_PROTO_H
#define MSCONV_PPROF_PROTO_H
#include "views.h"

/* Writes a->output ("-" = stdout) atomically: sample types alloc_objects,
 * alloc_space, inuse_objects, inuse_space (Go's heap-profile names, default
 * inuse_space), one sample per heap site, locations with their inlined
 * frames, mappings with build ids. Returns 0, 1 after an error line
 * "msconv: FILE: reason" (nothing written), 2 without an output name. */
int msconv_heap_pprof(const msconv_args *a);
#endif
