/*
 * names.c — human-readable names for error codes, heap operations and
 * record types (ms_strerror, ms_op_name, ms_record_type_name), plus the
 * checksum helper shared by writer and reader.
 *
 * Kept apart from writer/reader so tools that only print things link
 * little, and so the strings live in one place. No locale, no stdio: the
 * recorder may call these from a crash handler.
 */
#include <xxhash.h>
#include "format_internal.h"

uint32_t msf_check32(const void *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}

const char *ms_strerror(int err)
{
    switch (err) {
    case MS_OK:           return "success";
    case MS_EIO:          return "input/output error (see errno)";
    case MS_ENOMEM:       return "out of memory";
    case MS_EINVAL:       return "invalid argument";
    case MS_ENOTMS:       return "not a .memscope file (bad magic)";
    case MS_EVERSION:     return "unsupported format version (this library reads major version 1)";
    case MS_ETRUNC:       return "file is truncated (cut inside a header or chunk)";
    case MS_ECORRUPT:     return "corrupt data (checksum or structure error)";
    case MS_EUNSUPPORTED: return "file uses a feature this reader does not understand";
    case MS_EZSTD:        return "zstd compression or decompression failed";
    case MS_EEXIST:       return "output file already exists (never overwritten)";
    case MS_ESTATE:       return "operation not valid in the current state";
    case MS_EEMPTY:       return "file is empty";
    case MS_ELIMIT:       return "a length exceeds a format limit";
    default:              return "unknown error";
    }
}

const char *ms_op_name(unsigned op)
{
    switch (op) {
    case MS_OP_FREE:           return "free";
    case MS_OP_DELETE:         return "operator delete";
    case MS_OP_DELETE_ARRAY:   return "operator delete[]";
    case MS_OP_MALLOC:         return "malloc";
    case MS_OP_CALLOC:         return "calloc";
    case MS_OP_REALLOC:        return "realloc";
    case MS_OP_REALLOCARRAY:   return "reallocarray";
    case MS_OP_MEMALIGN:       return "memalign";
    case MS_OP_POSIX_MEMALIGN: return "posix_memalign";
    case MS_OP_ALIGNED_ALLOC:  return "aligned_alloc";
    case MS_OP_VALLOC:         return "valloc";
    case MS_OP_PVALLOC:        return "pvalloc";
    case MS_OP_NEW:            return "operator new";
    case MS_OP_NEW_ARRAY:      return "operator new[]";
    default:                   return "unknown";
    }
}

const char *ms_record_type_name(uint32_t type)
{
    switch (type) {
    case MS_REC_META:          return "meta";
    case MS_REC_STRING:        return "string";
    case MS_REC_MODULE:        return "module";
    case MS_REC_MODULE_UNLOAD: return "module_unload";
    case MS_REC_STACK:         return "stack";
    case MS_REC_SYMBOL:        return "symbol";
    case MS_REC_THREAD:        return "thread";
    case MS_REC_THREAD_END:    return "thread_end";
    case MS_REC_SAMPLE:        return "sample";
    case MS_REC_MARK:          return "mark";
    case MS_REC_LABEL:         return "label";
    case MS_REC_SYNC:          return "sync";
    case MS_REC_END:           return "end";
    case MS_REC_LIVE_BLOCKS:   return "live_blocks";
    case MS_REC_MAPS:          return "maps";
    case MS_REC_PROC_MEM:      return "proc_mem";
    case MS_REC_SNAP_BEGIN:    return "snap_begin";
    case MS_REC_SNAP_PROC:     return "snap_proc";
    case MS_REC_SNAP_END:      return "snap_end";
    case MS_REC_EVENT:         return "event";
    default:                   return "unknown";
    }
}
