/* Views of a synthetic call tree: exact pprof text (English and Chinese,
 * B and MB units, --nodecount), exact folded lines (with ';' in a name),
 * the flame graph SVG and the DOT/SVG call graph parsed by an XML parser
 * (python3), names with markup escaped, and Graphviz output when `dot` is
 * installed; the HTML writer's placeholders and script-safe JSON. */
#include <stdlib.h>
#include <unistd.h>
#include "memscope.h"
#include "calltree.h"
#include "pprof_text.h"
#include "flame.h"
#include "dot.h"
#include "html.h"
#include "html_esc.h"
#include "mstest.h"

static ms_calltree *tree(void)
{
    ms_calltree *t;
    if (ms_calltree_new(&t, 0)) abort();
    uint32_t M, A, L, B;
    ms_calltree_func_id(t, &M, "main", "x.c", 3);
    ms_calltree_func_id(t, &A, "a", "x.c", 10);
    ms_calltree_func_id(t, &L, "leaf", "x.c", 10);
    ms_calltree_func_id(t, &B, "b<script>&\"x\";y", "", 0);
    struct { uint32_t f[4]; size_t n; uint64_t v; } s[] = {
        { { M, A, L }, 3, 100 }, { { M, A, A, L }, 4, 50 }, { { M, B }, 2, 30 }, { { M }, 1, 20 },
    };
    for (size_t i = 0; i < 4; i++) {
        uint64_t v[MS_CT_NMETRICS] = { s[i].v, s[i].v / 10, s[i].v * 3, i + 1, 0 };
        if (ms_calltree_add(t, s[i].f, s[i].n, v)) abort();
    }
    ms_calltree_sort_children(t);
    return t;
}

static char *render(int (*fn)(FILE *, void *), void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (fn(fp, arg) != 0) printf("FAIL: render: writer returned an error\n");
    fclose(fp);
    return buf;
}

struct pp { ms_calltree *t; ms_pprof_opts o; };
static int pp_fn(FILE *fp, void *a) { struct pp *p = a; return ms_pprof_text(fp, p->t, &p->o); }
static int folded_fn(FILE *fp, void *a) { return ms_folded_write(fp, a, MS_CT_PEAK); }

static int xml_ok(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' %s", path);
    return system(cmd) == 0;
}

static int grep_file(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return strstr(buf, needle) != NULL;
}

static int data_ok(FILE *fp, void *ctx)
{
    (void)ctx;
    fputs("{\"kind\":\"test\",\"lang\":\"en\",\"s\":", fp);
    ms_json_string(fp, "</script><!--\"\\\n\x01\xff\xe2\x80\xa8ok");
    fputs("}", fp);
    return 0;
}
static int data_fail(FILE *fp, void *ctx) { (void)fp; (void)ctx; return -1; }
static int html_ok(FILE *fp, void *a) { (void)a; return ms_html_write(fp, "t<i>&", data_ok, NULL); }

int main(void)
{
    ms_calltree *t = tree();
    struct pp p = { t, { .metric = MS_CT_PEAK, .lang_en = 1 } };
    char *s = render(pp_fn, &p);
    CHECK_STR("pprof text en",
        "Type: peak\n"
        "Showing nodes accounting for 200B, 100% of 200B total\n"
        "      flat  flat%   sum%        cum   cum%\n"
        "      150B 75.00% 75.00%       150B 75.00%  leaf (x.c:10)\n"
        "       30B 15.00% 90.00%        30B 15.00%  b<script>&\"x\";y\n"
        "       20B 10.00%   100%       200B   100%  main (x.c:3)\n"
        "         0     0%   100%       150B 75.00%  a (x.c:10)\n", s);
    free(s);
    p.o.lang_en = 0; p.o.nodecount = 2;
    s = render(pp_fn, &p);
    CHECK("pprof text zh header", s && strstr(s, "类型：峰值\n显示的节点合计 180B，占总量 200B 的 90.00%\n显示前 2 个节点（共 4 个）\n"));
    free(s);
    p.o.lang_en = 1; p.o.nodecount = 0; p.o.metric = MS_CT_COUNT;
    s = render(pp_fn, &p);
    CHECK("pprof count metric", s && strstr(s, "Showing nodes accounting for 10, 100% of 10 total\n"));
    free(s);
    ms_calltree_free(t);

    /* outputs.md's example in binary units: "2000MiB", ".00" trimmed */
    ms_calltree_new(&t, 0);
    uint32_t M, L2, S;
    ms_calltree_func_id(t, &M, "main", "", 0);
    ms_calltree_func_id(t, &L2, "leaf_big", "", 0);
    ms_calltree_func_id(t, &S, "leaf_small", "", 0);
    uint64_t v1[MS_CT_NMETRICS] = { 2000ULL << 20 }, v2[MS_CT_NMETRICS] = { 31ULL << 20 | 256ULL << 10 };
    ms_calltree_add(t, (uint32_t[]){ M, L2 }, 2, v1);
    ms_calltree_add(t, (uint32_t[]){ M, S }, 2, v2);
    p.t = t; p.o.metric = MS_CT_PEAK; p.o.type_line = "";
    s = render(pp_fn, &p);
    CHECK_STR("pprof text MiB (outputs.md)",
        "Showing nodes accounting for 2031.25MiB, 100% of 2031.25MiB total\n"
        "      flat  flat%   sum%        cum   cum%\n"
        "   2000MiB 98.46% 98.46%    2000MiB 98.46%  leaf_big\n"
        "  31.25MiB  1.54%   100%   31.25MiB  1.54%  leaf_small\n"
        "         0     0%   100% 2031.25MiB   100%  main\n", s);
    free(s);
    char b[64];
    ms_pprof_percent(b, sizeof b, 42, 1000000);
    CHECK_STR("pprof small percent", "0.0042%", b);
    ms_pprof_value(b, sizeof b, 1536, MS_PPROF_UNIT_KB);
    CHECK_STR("pprof KiB", "1.50KiB", b);
    ms_pprof_value(b, sizeof b, 1344, MS_PPROF_UNIT_MB);      /* issue 12: was "0" */
    CHECK_STR("pprof small row under MiB", "1.31KiB", b);
    ms_pprof_value(b, sizeof b, 3, MS_PPROF_UNIT_MB);
    CHECK_STR("pprof tiny row under MiB", "3B", b);
    ms_calltree_free(t);

    t = tree();
    s = render(folded_fn, t);
    CHECK_STR("folded exact", "main 20\nmain;a;a;leaf 50\nmain;a;leaf 100\nmain;b<script>&\"x\":y 30\n", s);
    free(s);

    /* HTML writer */
    size_t tlen;
    const char *tpl = ms_html_template(&tlen);
    CHECK("html template embedded", tlen > 1000 && strstr(tpl, "@@MEMSCOPE_DATA@@") && strstr(tpl, "@@MEMSCOPE_TITLE@@"));
    s = render(html_ok, NULL);
    CHECK("html title escaped", s && strstr(s, "<title>t&lt;i&gt;&amp;</title>"));
    CHECK("html data in place", s && strstr(s, "<script type=\"application/json\" id=\"msdata\">{\"kind\":\"test\""));
    CHECK("json escapes </ <!-- and controls",
          s && strstr(s, "\"s\":\"<\\/script>\\u003c!--\\\"\\\\\\n\\u0001\\ufffd\\u2028ok\"}"));
    CHECK("html no placeholder left", s && !strstr(s, "@@MEMSCOPE_"));
    free(s);
    {
        char *b = NULL;
        size_t bl = 0;
        FILE *mf = open_memstream(&b, &bl);
        CHECK("html data failure reported", ms_html_write(mf, "x", data_fail, NULL) == -1);
        fclose(mf);
        free(b);
    }
    char dir[] = "/tmp/msviewsXXXXXX";
    if (!mkdtemp(dir)) { printf("FAIL: mkdtemp\n"); return 1; }
    char path[256];
    snprintf(path, sizeof path, "%s/flame.svg", dir);
    FILE *fp = fopen(path, "w");
    ms_flame_opts fo = { .metric = MS_CT_PEAK, .lang_en = 1, .subtitle = "prog <a&b>" };
    CHECK("flame svg written", ms_flame_svg(fp, t, &fo) == 0);
    fclose(fp);
    CHECK("flame svg is XML", xml_ok(path));
    CHECK("flame tooltip", grep_file(path, "<title>leaf (100 bytes, 50.00%)</title>"));
    CHECK("flame escapes names", grep_file(path, "<title>b&lt;script&gt;&amp;&quot;x&quot;;y (30 bytes, 15.00%)</title>"));
    CHECK("flame root", grep_file(path, "<title>all (200 bytes, 100.00%)</title>"));
    CHECK("flame no raw script name", !grep_file(path, "b<script>"));
    CHECK("flame has zoom js", grep_file(path, "function zoom(g)"));
    snprintf(path, sizeof path, "%s/icicle.svg", dir);
    fp = fopen(path, "w");
    fo.icicle = 1; fo.lang_en = 0; fo.metric = MS_CT_COUNT;
    CHECK("icicle svg written", ms_flame_svg(fp, t, &fo) == 0);
    fclose(fp);
    CHECK("icicle svg is XML", xml_ok(path));
    CHECK("icicle zh tooltip", grep_file(path, "<title>leaf (1 次分配, 10.00%)</title>"));
    snprintf(path, sizeof path, "%s/empty.svg", dir);
    fp = fopen(path, "w");
    fo.metric = MS_CT_TEMPORARY;
    CHECK("empty flame written", ms_flame_svg(fp, t, &fo) == 0);
    fclose(fp);
    CHECK("empty flame is XML", xml_ok(path));

    /* DOT */
    char *dotbuf = NULL;
    size_t dotlen = 0;
    fp = open_memstream(&dotbuf, &dotlen);
    ms_dot_opts dop = { .metric = MS_CT_PEAK, .lang_en = 1, .title = "prog \"q\"" };
    ms_dot_stats dst;
    CHECK("dot written", ms_dot_write(fp, t, &dop, &dst) == 0);
    fclose(fp);
    CHECK_EQ_U64("dot nodes", 4, dst.nodes);
    CHECK_EQ_U64("dot edges", 4, dst.edges);
    CHECK("dot node label", strstr(dotbuf, "label=\"leaf\\n150B (75.00%)\\nof 150B (75.00%)\""));
    CHECK("dot legend total", strstr(dotbuf, "Total: 200B\\l"));
    CHECK("dot escapes quotes", strstr(dotbuf, "b<script>&\\\"x\\\";y"));
    CHECK("dot edge label", strstr(dotbuf, "[label=\" 150B\""));
    if (ms_dot_find()) {
        snprintf(path, sizeof path, "%s/graph.svg", dir);
        fp = fopen(path, "w");
        char err[256] = "";
        int rc = ms_dot_svg(dotbuf, dotlen, fp, err, sizeof err);
        fclose(fp);
        CHECK("dot -Tsvg runs", rc == 0);
        if (rc) printf("    %s\n", err);
        CHECK("dot svg is XML", xml_ok(path));
        CHECK("dot svg legend", grep_file(path, "Total: 200B"));
        fp = fopen(path, "w");
        rc = ms_dot_svg("digraph {", 9, fp, err, sizeof err);
        fclose(fp);
        CHECK("dot syntax error reported", rc == -1 && strstr(err, "dot failed"));
    } else {
        printf("PASS: dot not installed (svg rendering skipped)\n");
    }
    free(dotbuf);
    /* Small-node dropping: 1000 tiny functions. */
    ms_calltree *big;
    ms_calltree_new(&big, 0);
    for (int i = 0; i < 1000; i++) {
        char nm[32];
        uint32_t f[2];
        snprintf(nm, sizeof nm, "f%d", i);
        ms_calltree_func_id(big, &f[0], "main", "", 0);
        ms_calltree_func_id(big, &f[1], nm, "", 0);
        uint64_t v[MS_CT_NMETRICS] = { i < 10 ? 100000 : 1 };
        ms_calltree_add(big, f, 2, v);
    }
    dotbuf = NULL;
    fp = open_memstream(&dotbuf, &dotlen);
    dop.lang_en = 0;
    ms_dot_write(fp, big, &dop, &dst);
    fclose(fp);
    CHECK_EQ_U64("dot keeps big nodes", 11, dst.nodes);
    CHECK_EQ_U64("dot drops tiny nodes", 990, dst.nodes_dropped);
    CHECK("dot says dropped (zh)", strstr(dotbuf, "丢弃 990 个"));
    free(dotbuf);
    ms_calltree_free(big);
    ms_calltree_free(t);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (ms_test_failures == 0 && system(cmd) != 0) printf("FAIL: cleanup\n");
    return ms_test_failures != 0;
}
