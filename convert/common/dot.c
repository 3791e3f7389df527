/* DOT call graph writer and Graphviz runner (dot.h). Node and edge
 * selection follows pprof: functions by cum, at most max_nodes, none under
 * node_frac of the total; edges between kept functions, none under
 * edge_frac. Colors use pprof's dotColor formula so the graph reads the
 * same as pprof's. `dot` runs as a child process fed through a pipe, its
 * SVG written straight into the caller's (atomic) output file. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "memscope.h"
#include "dot.h"
#include "fmt.h"
#include "flame.h"
#include "pprof_text.h"

/* pprof's dotColor: score in [-1, 1] -> "#rrggbb"; red for heavy. */
static void dot_color(char *buf, size_t n, double score, int bg)
{
    const double shift = 0.7;
    double sat = bg ? 0.1 : 1.0, val = bg ? 0.93 : 0.7;
    if (score > 1) score = 1;
    if (score < -1) score = -1;
    if (fabs(score) < 0.2) sat *= fabs(score) / 0.2;
    if (score > 0) score = pow(score, 1.0 - shift);
    if (score < 0) score = -pow(-score, 1.0 - shift);
    double r, g, b;
    if (score < 0) { g = val; r = val * (1 + sat * score); }
    else { r = val; g = val * (1 - sat * score); }
    b = val * (1 - sat);
    snprintf(buf, n, "#%02x%02x%02x", (unsigned)(uint8_t)(r * 255.0), (unsigned)(uint8_t)(g * 255.0),
             (unsigned)(uint8_t)(b * 255.0));
}

/* A DOT double-quoted string body: '"' and '\' escaped, controls become
 * spaces, invalid UTF-8 becomes U+FFFD; at most max characters (then ".."). */
static void dot_str(FILE *fp, const char *str, size_t max)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)s), chars = 0;
    for (size_t i = 0; i < n;) {
        if (chars++ == max) { fputs("..", fp); return; }
        unsigned char c = s[i];
        if (c == '"' || c == '\\') { fputc('\\', fp); fputc(c, fp); i++; continue; }
        if (c < 0x20 || c == 0x7f) { fputc(' ', fp); i++; continue; }
        size_t l = ms_utf8_seq(s + i, n - i);
        if (!l) { fputs("\xef\xbf\xbd", fp); i++; continue; }
        fwrite(s + i, 1, l, fp);
        i += l;
    }
}

static void value_str(char *buf, size_t n, uint64_t v, int unit)
{
    ms_pprof_value(buf, n, v, unit);
}

static const ms_calltree *cmp_tree;
static int cmp_metric;
static int by_cum_cmp(const void *pa, const void *pb)
{
    const ms_ct_func *a = ms_calltree_func(cmp_tree, *(const uint32_t *)pa);
    const ms_ct_func *b = ms_calltree_func(cmp_tree, *(const uint32_t *)pb);
    if (a->cum[cmp_metric] != b->cum[cmp_metric]) return a->cum[cmp_metric] > b->cum[cmp_metric] ? -1 : 1;
    if (a->flat[cmp_metric] != b->flat[cmp_metric]) return a->flat[cmp_metric] > b->flat[cmp_metric] ? -1 : 1;
    return strcmp(a->name, b->name);
}

int ms_dot_write(FILE *fp, const ms_calltree *t, const ms_dot_opts *o, ms_dot_stats *st)
{
    int m = o->metric, en = o->lang_en, bytes = ms_ct_metric_is_bytes(m);
    size_t maxn = o->max_nodes ? o->max_nodes : 80;
    double nfrac = o->node_frac > 0 ? o->node_frac : 0.005, efrac = o->edge_frac > 0 ? o->edge_frac : 0.001;
    uint64_t total = ms_calltree_total(t, m);
    int unit = ms_pprof_unit_for(total, bytes);
    ms_dot_stats s = { 0, 0, 0, 0 };

    size_t nf;
    uint32_t *ids = ms_calltree_sorted_funcs(t, m, 1, &nf);
    size_t nfuncs = ms_calltree_func_count(t);
    int32_t *slot = malloc((nfuncs ? nfuncs : 1) * sizeof *slot);   /* func -> node number or -1 */
    if (!slot || (nf && !ids)) { free(ids); free(slot); return -1; }
    for (size_t i = 0; i < nfuncs; i++) slot[i] = -1;
    cmp_tree = t; cmp_metric = m;
    if (nf) qsort(ids, nf, sizeof *ids, by_cum_cmp);
    uint64_t node_min = (uint64_t)ceil(nfrac * (double)total), edge_min = (uint64_t)ceil(efrac * (double)total);
    uint64_t maxflat = 0;
    for (size_t i = 0; i < nf; i++) {
        const ms_ct_func *f = ms_calltree_func(t, ids[i]);
        if (s.nodes < maxn && f->cum[m] >= node_min && f->cum[m] > 0) {
            slot[ids[i]] = (int32_t)s.nodes++;
            if (f->flat[m] > maxflat) maxflat = f->flat[m];
        } else {
            s.nodes_dropped++;
        }
    }

    char a[64], b[64];
    fputs("digraph \"memscope\" {\n", fp);
    fputs("node [style=filled fillcolor=\"#f8f8f8\" fontname=\"Helvetica,Arial,sans-serif\"]\n", fp);
    fputs("edge [fontname=\"Helvetica,Arial,sans-serif\"]\n", fp);

    /* Legend. */
    fputs("subgraph cluster_L { \"Legend\" [shape=box fontsize=16 label=\"", fp);
    if (o->title) { dot_str(fp, o->title, 200); fputs("\\l", fp); }
    if (o->note) { dot_str(fp, o->note, 200); fputs("\\l", fp); }
    fprintf(fp, en ? "Type: %s\\l" : "类型：%s\\l", ms_flame_metric_label(m, en));
    value_str(a, sizeof a, total, unit);
    fprintf(fp, en ? "Total: %s\\l" : "总计：%s\\l", a);
    value_str(a, sizeof a, node_min, unit);
    if (en) fprintf(fp, "Showing %zu of %zu nodes (dropped %zu nodes with cum < %s)\\l", s.nodes, nf, s.nodes_dropped, a);
    else fprintf(fp, "显示 %zu / %zu 个节点（丢弃 %zu 个 cum < %s 的节点）\\l", s.nodes, nf, s.nodes_dropped, a);

    /* Edges between kept nodes, counted before the legend closes. */
    size_t ne = ms_calltree_edge_count(t);
    uint64_t maxedge = 0;
    for (size_t i = 0; i < ne; i++) {
        const ms_ct_edge *e = ms_calltree_edge(t, i);
        if (slot[e->caller] < 0 || slot[e->callee] < 0 || e->value[m] == 0) continue;
        if (e->value[m] < edge_min) { s.edges_dropped++; continue; }
        s.edges++;
        if (e->value[m] > maxedge) maxedge = e->value[m];
    }
    value_str(a, sizeof a, edge_min, unit);
    if (en) fprintf(fp, "Dropped %zu edges (< %s)\\l", s.edges_dropped, a);
    else fprintf(fp, "丢弃 %zu 条边（< %s）\\l", s.edges_dropped, a);
    fputs("\" tooltip=\"memscope\"] }\n", fp);

    for (size_t i = 0; i < nf; i++) {
        if (slot[ids[i]] < 0) continue;
        const ms_ct_func *f = ms_calltree_func(t, ids[i]);
        char col[16], fill[16], pf[32], pc[32];
        double score = total ? (double)f->cum[m] / (double)total : 0;
        dot_color(col, sizeof col, score, 0);
        dot_color(fill, sizeof fill, score, 1);
        value_str(a, sizeof a, f->flat[m], unit);
        value_str(b, sizeof b, f->cum[m], unit);
        ms_pprof_percent(pf, sizeof pf, f->flat[m], total);
        ms_pprof_percent(pc, sizeof pc, f->cum[m], total);
        char *p1 = pf, *p2 = pc;
        while (*p1 == ' ') p1++;
        while (*p2 == ' ') p2++;
        int fs = 8 + (int)ceil(16.0 * (maxflat ? sqrt((double)f->flat[m] / (double)maxflat) : 0));
        fprintf(fp, "N%d [label=\"", slot[ids[i]] + 1);
        dot_str(fp, f->name, 60);
        fprintf(fp, en ? "\\n%s (%s)\\nof %s (%s)\" id=\"node%d\" fontsize=%d shape=box tooltip=\""
                       : "\\n%s（%s）\\n累计 %s（%s）\" id=\"node%d\" fontsize=%d shape=box tooltip=\"",
                a, p1, b, p2, slot[ids[i]] + 1, fs);
        dot_str(fp, f->name, 300);
        if (*f->file) {
            fputs(" (", fp);
            dot_str(fp, f->file, 300);
            uint32_t line = ms_calltree_func_sole_line(t, ids[i], m);
            if (line) fprintf(fp, ":%u", line);
            fputc(')', fp);
        }
        fprintf(fp, " %s\" color=\"%s\" fillcolor=\"%s\"]\n", b, col, fill);
    }
    for (size_t i = 0; i < ne; i++) {
        const ms_ct_edge *e = ms_calltree_edge(t, i);
        if (slot[e->caller] < 0 || slot[e->callee] < 0 || e->value[m] == 0 || e->value[m] < edge_min) continue;
        char col[16];
        double score = total ? (double)e->value[m] / (double)total : 0;
        dot_color(col, sizeof col, score, 0);
        double pw = 1 + 5 * (maxedge ? (double)e->value[m] / (double)maxedge : 0);
        int weight = 1 + (int)(99 * score);
        value_str(a, sizeof a, e->value[m], unit);
        fprintf(fp, "N%d -> N%d [label=\" %s\" weight=%d penwidth=%.2f color=\"%s\" tooltip=\"", slot[e->caller] + 1,
                slot[e->callee] + 1, a, weight, pw, col);
        dot_str(fp, ms_calltree_func(t, e->caller)->name, 100);
        fputs(" -> ", fp);
        dot_str(fp, ms_calltree_func(t, e->callee)->name, 100);
        fprintf(fp, " (%s)\" labeltooltip=\"%s\"]\n", a, a);
    }
    fputs("}\n", fp);
    free(ids);
    free(slot);
    if (st) *st = s;
    return ferror(fp) ? -1 : 0;
}

const char *ms_dot_find(void)
{
    static char path[4096];
    const char *env = getenv("PATH");
    if (!env || !*env) env = "/usr/local/bin:/usr/bin:/bin";
    while (*env) {
        const char *end = strchr(env, ':');
        size_t len = end ? (size_t)(end - env) : strlen(env);
        if (len == 0) snprintf(path, sizeof path, "./dot");
        else snprintf(path, sizeof path, "%.*s/dot", (int)len, env);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0) return path;
        if (!end) break;
        env = end + 1;
    }
    return NULL;
}

int ms_dot_svg(const char *dot, size_t len, FILE *out, char *err, size_t errlen)
{
    const char *exe = ms_dot_find();
    if (!exe) { snprintf(err, errlen, "Graphviz 'dot' not found in PATH"); return -1; }
    int in[2], op[2], errp[2];
    if (pipe(in) != 0) { snprintf(err, errlen, "pipe: %s", strerror(errno)); return -1; }
    if (pipe(op) != 0) { close(in[0]); close(in[1]); snprintf(err, errlen, "pipe: %s", strerror(errno)); return -1; }
    if (pipe(errp) != 0) {
        close(in[0]); close(in[1]); close(op[0]); close(op[1]);
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(in[0]); close(in[1]); close(op[0]); close(op[1]); close(errp[0]); close(errp[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(op[1], 1);
        dup2(errp[1], 2);
        close(in[0]); close(in[1]); close(op[0]); close(op[1]); close(errp[0]); close(errp[1]);
        execl(exe, "dot", "-Tsvg", (char *)NULL);
        _exit(127);
    }
    close(in[0]); close(op[1]); close(errp[1]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    /* feed the graph, and copy the SVG into out as it comes (out may be
     * any stream: the report's escaping, atomic file) */
    size_t off = 0, got = 0;
    int werr = 0, oerr = 0;
    char msg[512], buf[16384];
    struct pollfd pf[3] = { { op[0], POLLIN, 0 }, { errp[0], POLLIN, 0 }, { in[1], POLLOUT, 0 } };
    int open_fds = 3;
    if (len == 0) { close(in[1]); pf[2].fd = -1; open_fds--; }
    while (open_fds) {
        if (poll(pf, 3, -1) < 0) { if (errno == EINTR) continue; werr = errno; break; }
        if (pf[2].fd >= 0 && pf[2].revents) {
            ssize_t w = pf[2].revents & POLLOUT ? write(in[1], dot + off, len - off > 65536 ? 65536 : len - off) : -1;
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) werr = errno;
            else off += (size_t)w;
            if (w < 0 || off == len) { close(in[1]); pf[2].fd = -1; open_fds--; }
        }
        for (int k = 0; k < 2; k++) {
            if (pf[k].fd < 0 || !pf[k].revents) continue;
            ssize_t r = read(pf[k].fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) { close(pf[k].fd); pf[k].fd = -1; open_fds--; continue; }
            if (k == 0) { if (!oerr && fwrite(buf, 1, (size_t)r, out) != (size_t)r) oerr = 1; }
            else {
                size_t c = (size_t)r < sizeof msg - 1 - got ? (size_t)r : sizeof msg - 1 - got;
                memcpy(msg + got, buf, c);
                got += c;
            }
        }
    }
    for (int k = 0; k < 3; k++) if (pf[k].fd >= 0) close(pf[k].fd);
    msg[got] = 0;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    signal(SIGPIPE, old);
    for (char *p = msg; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "dot failed (%s%d)%s%s", WIFEXITED(status) ? "status " : "signal ",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), got ? ": " : "", msg);
        return -1;
    }
    if (werr) { snprintf(err, errlen, "writing to dot: %s", strerror(werr)); return -1; }
    if (oerr || ferror(out)) { snprintf(err, errlen, "write failed: %s", strerror(errno)); return -1; }
    return 0;
}
