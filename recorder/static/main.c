/*
 * msrec-static — `msrec snapshot` alone, linked statically. Remote hosts get
 * this binary (tools/ansible, tools/memscope-remote.sh): it needs no shared
 * library there, not even the C library's, so a host with nothing installed
 * can be snapshotted (seed 000: 远程主机无需预装任何特殊软件). It runs the very
 * same snapshot code as msrec (recorder/snapshot/); only the heap recorder
 * and the libdw symbolizer, which a snapshot does not use, are left out.
 *
 * The snapshotter names users from /etc/passwd and falls back to getpwuid()
 * for the rest (LDAP, ...). In a static glibc binary getpwuid() would load
 * the build machine's NSS modules on the remote host, where a different
 * glibc may crash them; the link wraps it (-Wl,--wrap=getpwuid) so such a
 * user is recorded by number instead.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include "../msrec/msrec.h"

struct passwd *__wrap_getpwuid(uid_t uid);
struct passwd *__wrap_getpwuid(uid_t uid)
{
    (void)uid;
    errno = 0;
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: msrec-static snapshot OUT [--pid PID] [--max-processes N] [--label TEXT]\n"
        "                 [--interval SEC --count N] [--lib-memory | --no-libs]\n"
        "       msrec-static --help | --version\n"
        "\n"
        "The `msrec snapshot` command as one static binary for hosts without\n"
        "memscope's libraries. Run `msrec-static snapshot --help` for the options.\n");
}

int main(int argc, char **argv)
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
        printf("msrec-static %s\n", MSREC_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "snapshot"))
        return msrec_snapshot(argc - 1, argv + 1);
    fprintf(stderr, "msrec-static: unknown command '%s' (only snapshot; try --help)\n", argv[1]);
    return 2;
}
