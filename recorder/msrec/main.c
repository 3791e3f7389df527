/*
 * msrec — the recording front end. Dispatches to its subcommands:
 * `msrec run` (heap recording of a command under libmemscope, run.c),
 * `msrec attach|detach|status` (a window of a running process that has
 * libmemscope with MEMSCOPE_CONTROL=1, attach.c),
 * `msrec symbolize` (SYMBOL records for a trace, symbolize.c) and
 * `msrec snapshot` (/proc snapshots of every process, recorder/snapshot/).
 */
#include <stdio.h>
#include <string.h>
#include "msrec.h"
#include "mssym.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: msrec run [-o FILE [--force]] [--unwind libunwind|fp] [--export json|html|both]\n"
        "                 [--follow-children] [--no-symbolize] [--debuginfod] -- CMD ARGS...\n"
        "       msrec attach PID [-s SECONDS] [-c SAMPLE_BYTES] [-o FILE|PREFIX]\n"
        "       msrec detach PID | msrec status PID\n"
        "       msrec symbolize FILE... [--debuginfod] [-o OUT]\n"
        "       msrec snapshot OUT [--pid PID] [--max-processes N] [--label TEXT]\n"
        "                 [--interval SEC --count N] [--print]\n"
        "       msrec --help | --version\n"
        "\n"
        "  run       record every heap allocation of CMD into a .memscope file\n"
        "  attach    record a window of a running process started with\n"
        "            MEMSCOPE_CONTROL=1 (detach stops it, status tells)\n"
        "  symbolize add function names and file:line to a trace (run does it)\n"
        "  snapshot  record a /proc memory snapshot of every process\n"
        "Run `msrec run --help`, `msrec attach --help` or `msrec snapshot --help`\n"
        "for the options.\n");
}

static int msrec_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("msrec %s\n", MSREC_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "run"))
        return msrec_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "attach"))
        return msrec_attach(argc - 1, argv + 1);
    if (!strcmp(argv[1], "detach"))
        return msrec_detach(argc - 1, argv + 1);
    if (!strcmp(argv[1], "status"))
        return msrec_status(argc - 1, argv + 1);
    if (!strcmp(argv[1], "symbolize"))
        return msrec_symbolize(argc - 1, argv + 1);
    if (!strcmp(argv[1], "snapshot"))
        return msrec_snapshot(argc - 1, argv + 1);
    fprintf(stderr, "msrec: unknown command '%s' (try msrec --help)\n", argv[1]);
    return 2;
}

int main(int argc, char **argv)
{
    return mssym_main(msrec_main, argc, argv);
}
