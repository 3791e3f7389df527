/*
 * test_golden.c — every golden .memscope file must read back, through the
 * library reader, exactly as its checked-in canonical dump (.expected).
 *
 * Goldens of every format version stay readable forever (tests/golden/
 * README.md), so this is the test that catches a reader change breaking old
 * files or a writer change that silently alters the bytes of a version. The
 * dump (tests/golden/msdump.h) prints every field of every record plus chunk
 * and integrity information; it is compared byte for byte, through both
 * ms_reader_open (path) and ms_reader_open_mem. The first differing line is
 * printed on failure.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memscope.h"
#include "mstest.h"
#include "../golden/msdump.h"

static int problems;
static void on_problem(void *ctx, int err, uint64_t off, const char *msg)
{
    (void)ctx;
    problems++;
    printf("  problem: %s at %llu: %s\n", ms_strerror(err), (unsigned long long)off, msg);
}

/* Returns NULL when equal, else a description of the first difference. */
static const char *first_diff(const char *exp, size_t elen, const char *got, size_t glen)
{
    static char msg[1024];
    size_t line = 1, i = 0, ls = 0;
    while (i < elen && i < glen && exp[i] == got[i]) {
        if (exp[i] == '\n') { line++; ls = i + 1; }
        i++;
    }
    if (i == elen && i == glen)
        return NULL;
    const char *ee = memchr(exp + ls, '\n', elen - ls), *ge = memchr(got + ls, '\n', glen - ls);
    int el = (int)((ee ? ee : exp + elen) - (exp + ls)), gl = (int)((ge ? ge : got + glen) - (got + ls));
    snprintf(msg, sizeof msg, "line %zu: expected '%.*s', got '%.*s'", line,
             el > 400 ? 400 : el, exp + ls, gl > 400 ? 400 : gl, got + ls);
    return msg;
}

static void check_golden(const char *dir, const char *name)
{
    char path[4608], epath[4608], tname[640];
    snprintf(path, sizeof path, "%s/%s.memscope", dir, name);
    snprintf(epath, sizeof epath, "%s/%s.expected", dir, name);

    size_t len = 0, elen = 0;
    unsigned char *buf = msd_slurp(path, &len);
    unsigned char *exp = msd_slurp(epath, &elen);
    snprintf(tname, sizeof tname, "golden/%s: files present", name);
    CHECK(tname, buf && exp && len > 0 && elen > 0);
    if (!buf || !exp) {
        free(buf);
        free(exp);
        return;
    }

    /* Memory reader. */
    char *dump = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&dump, &dlen);
    ms_reader *r = NULL;
    int rc = ms_reader_open_mem(&r, buf, len);
    snprintf(tname, sizeof tname, "golden/%s: opens", name);
    CHECK(tname, rc == MS_OK);
    if (rc != MS_OK) {
        printf("  open: %s %s\n", ms_strerror(rc), ms_reader_open_error());
        fclose(f);
        free(dump);
        free(buf);
        free(exp);
        return;
    }
    problems = 0;
    ms_reader_on_problem(r, on_problem, NULL);
    long n = msd_reader(f, r);
    fclose(f);
    ms_integrity g;
    ms_reader_integrity(r, &g);
    ms_reader_close(r);

    snprintf(tname, sizeof tname, "golden/%s: all records read", name);
    CHECK(tname, n > 0);
    snprintf(tname, sizeof tname, "golden/%s: integrity verdict OK", name);
    CHECK(tname, g.verdict == MS_OK && g.chunks_bad == 0 && g.bytes_lost == 0 && problems == 0);
    snprintf(tname, sizeof tname, "golden/%s: has END", name);
    CHECK(tname, g.has_end == 1);
    snprintf(tname, sizeof tname, "golden/%s: several chunks", name);
    CHECK(tname, g.chunks_ok >= 3);

    const char *d = first_diff((const char *)exp, elen, dump, dlen);
    snprintf(tname, sizeof tname, "golden/%s: dump equals %s.expected", name, name);
    if (d) {
        printf("FAIL: %s: %s\n", tname, d);
        ms_test_failures++;
    } else {
        printf("PASS: %s\n", tname);
    }

    /* Path reader: the same text. */
    char *dump2 = NULL;
    size_t dlen2 = 0;
    FILE *f2 = open_memstream(&dump2, &dlen2);
    rc = ms_reader_open(&r, path);
    if (rc == MS_OK) {
        msd_reader(f2, r);
        ms_reader_close(r);
    }
    fclose(f2);
    snprintf(tname, sizeof tname, "golden/%s: path reader equals memory reader", name);
    CHECK(tname, rc == MS_OK && dlen2 == dlen && memcmp(dump, dump2, dlen) == 0);

    free(dump);
    free(dump2);
    free(buf);
    free(exp);
}

int main(void)
{
    const char *root = getenv("MS_ROOT");
    char dir[4096], pat[4200];
    snprintf(dir, sizeof dir, "%s/tests/golden", root && *root ? root : ".");
    snprintf(pat, sizeof pat, "%s/*.memscope", dir);
    /* Every golden of every version, so a new version's goldens are tested
     * without an edit here; the v1.0 ones must be among them. */
    glob_t gl;
    int have_v10 = 0;
    if (glob(pat, 0, NULL, &gl) == 0) {
        for (size_t i = 0; i < gl.gl_pathc; i++) {
            const char *base = strrchr(gl.gl_pathv[i], '/');
            base = base ? base + 1 : gl.gl_pathv[i];
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(strlen(base) - strlen(".memscope")), base);
            if (!strcmp(name, "v1.0-heap") || !strcmp(name, "v1.0-snapshot"))
                have_v10++;
            check_golden(dir, name);
        }
        globfree(&gl);
    }
    CHECK("golden: v1.0 heap and snapshot goldens present", have_v10 == 2);
    return ms_test_failures != 0;
}
