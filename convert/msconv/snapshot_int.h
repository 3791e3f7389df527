/* Shared between msconv's snapshot views: snapshot_view.c (argument
 * parsing, --text, --pid, --json) and snapshot_html.c (--html OUT). The
 * words for process kinds and read-status bits live in snapshot_view.c so
 * the JSON report and the dashboard name them identically. */
#ifndef MSCONV_SNAPSHOT_INT_H
#define MSCONV_SNAPSHOT_INT_H
#include <stdio.h>
#include "snap.h"
#include "i18n.h"

/* "kernel", "system" or "user" (MS_PROC_*), as in --json. */
const char *msconv_snap_kind_word(uint32_t kind);

/* The --json words of the read-status bits set in rs ("vanished",
 * "denied_smaps", ...) into out (room for 8); returns the count. */
size_t msconv_snap_read_words(uint32_t rs, const char *out[8]);

/* The snapshot dashboard: the page of convert/common/html.c with the
 * overview and process table of snapshot `use` of sf, its libraries, and
 * for a series the growth of each process over the whole file. lang is the
 * page's initial language; input names the file in the page. Returns 0, or
 * -1 on a write error or when memory runs out. */
int msconv_snapshot_html(FILE *fp, ms_lang lang, const snap_file *sf, size_t use, const char *input);
#endif
