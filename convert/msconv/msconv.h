/* Entry points shared between msconv's files. main.c parses the common
 * options, handles --info/--dump for every file kind, heap views for heap
 * traces, and hands snapshot files to msconv_snapshot. */
#ifndef MSCONV_H
#define MSCONV_H
#include "memscope.h"

/* Views of snapshot files (convert/msconv/snapshot_*.c). Gets msconv's argv
 * unchanged (argv[1] or a later argument is the input file) and returns the
 * exit status. Handles --json, --text, --pid PID, --html, --lang, -o. */
int msconv_snapshot(int argc, char **argv);
#endif
