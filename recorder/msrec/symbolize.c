/*
 * msrec symbolize — add SYMBOL records to heap traces (spec/FORMAT.md 8.7).
 *
 * The traced process only records raw ips and its module map; this
 * resolves the ips with the modules' files on this machine
 * (recorder/symbolize/, libdwfl) and appends the SYMBOL records, in place
 * and atomically (a temporary file renamed over the trace), or into a new
 * file with -o. `msrec run` calls msrec_symbolize_one for each trace it
 * produced once its child has exited. debuginfod servers are asked only
 * with --debuginfod.
 */
#include <stdio.h>
#include <string.h>
#include "msrec.h"
#include "mssym.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: msrec symbolize FILE... [--debuginfod] [-o OUT] [-q]\n"
        "\n"
        "Resolves the instruction pointers of heap traces to functions and\n"
        "file:line (DWARF, separate debug files under /usr/lib/debug, symbol\n"
        "tables) and appends the SYMBOL records to each FILE in place (atomic:\n"
        "the original stays as it was when anything fails). Ips that already\n"
        "have symbols are skipped; modules whose file is missing or has another\n"
        "build id are named in the summary and their ips left for a later run.\n"
        "Answers are kept per build id in $MEMSCOPE_SYMBOL_CACHE (default\n"
        "$XDG_CACHE_HOME/memscope/symbols or ~/.cache/memscope/symbols; 0 turns\n"
        "it off) and reused while the module's debug files stay the same.\n"
        "  -o, --output OUT   write the result to OUT instead (one FILE; OUT must\n"
        "                     not exist)\n"
        "  --debuginfod       also ask the servers in $DEBUGINFOD_URLS for debug\n"
        "                     info (never done otherwise)\n"
        "  -q, --quiet        no summary line\n");
}

int msrec_symbolize_one(const char *path, const char *out, unsigned flags, int quiet,
                        mssym *warm)
{
    mssym_stats st;
    char err[512];
    int rc = mssym_file_warm(path, out, flags, warm, &st, err, sizeof err);
    if (rc) {
        fprintf(stderr, "msrec: symbolize: %s\n", err[0] ? err : ms_strerror(rc));
        return rc;
    }
    if (!quiet) {
        const char *shown = out ? out : path;
        fprintf(stderr, "msrec: symbolized %s: %llu ips, %llu named", shown,
                (unsigned long long)st.ips, (unsigned long long)(st.had + st.named));
        if (st.had) fprintf(stderr, " (%llu already)", (unsigned long long)st.had);
        if (st.unresolved)
            fprintf(stderr, ", %llu without symbols (%s)", (unsigned long long)st.unresolved,
                    st.problems[0] ? st.problems : "no module");
        fputc('\n', stderr);
    }
    return 0;
}

int msrec_symbolize(int argc, char **argv)
{
    const char *out = NULL;
    const char *files[256];
    int nfiles = 0, quiet = 0;
    unsigned flags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--debuginfod")) { flags |= MSSYM_DEBUGINFOD; continue; }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { quiet = 1; continue; }
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "msrec: %s needs a value\n", a);
                return 2;
            }
            out = argv[++i];
            continue;
        }
        if (!strncmp(a, "--output=", 9) && a[9]) { out = a + 9; continue; }
        if (!strcmp(a, "--")) {
            for (i++; i < argc && nfiles < 256; i++) files[nfiles++] = argv[i];
            break;
        }
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "msrec: unknown option '%s' (try msrec symbolize --help)\n", a);
            return 2;
        }
        if (nfiles == 256) {
            fprintf(stderr, "msrec: symbolize: at most 256 files at once\n");
            return 2;
        }
        files[nfiles++] = a;
    }
    if (nfiles == 0) {
        usage(stderr);
        return 2;
    }
    if (out && nfiles > 1) {
        fprintf(stderr, "msrec: symbolize: -o takes one FILE\n");
        return 2;
    }
    int bad = 0;
    for (int i = 0; i < nfiles; i++)
        if (msrec_symbolize_one(files[i], out, flags, quiet, NULL) != 0) bad = 1;
    return bad;
}
