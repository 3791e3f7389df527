/* Self-contained SVG flame graph (flame.h), drawn by memscope rather than
 * by flamegraph.pl so the report needs no Perl and no external script.
 * Layout follows flamegraph.pl: one row per stack depth, frame width
 * proportional to the node's total, root frame "all" spanning the width,
 * frames under min_pct % of the total folded with their subtrees: each
 * parent's folded children become one grey "[N folded]" frame (when they
 * add up to min_pct), and a line under the title says how many frames and
 * how much value were folded.
 * Each frame is a <g> carrying its position as fractions (data-x, data-w)
 * and depth (data-d); the embedded script zooms by rescaling those, so
 * the SVG also renders correctly with scripts disabled. */
#include <string.h>
#include <stdlib.h>
#include "memscope.h"
#include "flame.h"
#include "html_esc.h"
#include "fmt.h"

const char *ms_flame_metric_label(int m, int en)
{
    static const char *const zh[] = { "峰值", "泄漏", "累计分配", "分配次数", "临时分配" };
    static const char *const enl[] = { "peak", "leaked", "allocated", "allocations", "temporary allocations" };
    if (m < 0 || m >= MS_CT_NMETRICS) return "";
    return en ? enl[m] : zh[m];
}

const char *ms_flame_unit_label(int m, int en)
{
    if (ms_ct_metric_is_bytes(m)) return en ? "bytes" : "字节";
    if (m == MS_CT_TEMPORARY) return en ? "temporary allocations" : "次临时分配";
    return en ? "allocations" : "次分配";
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 16777619u; }
    return h;
}

#define FONT_SIZE 12
#define FONT_WIDTH 0.59
#define FRAME_H 16
#define XPAD 10
#define YPAD_TOP 54
#define YPAD_BOTTOM 34

/* Label that fits w pixels: the name, or its start + "..", or nothing. */
static void put_label(FILE *fp, const char *name, double w)
{
    size_t fit = (size_t)((w - 6) / (FONT_SIZE * FONT_WIDTH));
    if (fit < 3) return;
    size_t len = 0, chars = 0;
    const unsigned char *s = (const unsigned char *)name;
    size_t total_chars = 0;
    for (size_t i = 0; s[i];) { size_t l = ms_utf8_seq(s + i, 4); i += l ? l : 1; total_chars++; }
    if (total_chars <= fit) { ms_xml_escape(fp, name); return; }
    while (s[len] && chars + 2 < fit) {
        size_t l = ms_utf8_seq(s + len, 4);
        len += l ? l : 1;
        chars++;
    }
    ms_xml_escape_n(fp, name, len);
    fputs("..", fp);
}

static const char flame_css[] =
    "text{font-family:Verdana,'DejaVu Sans',sans-serif;font-size:12px;fill:#000}\n"
    "#title{font-size:17px;text-anchor:middle}\n"
    "#subtitle{text-anchor:middle;fill:#555}\n"
    ".btn{cursor:pointer;fill:#333}.btn:hover{fill:#06c}\n"
    ".f{cursor:pointer}.f:hover rect{stroke:#000;stroke-width:0.5}\n"
    ".f text{pointer-events:none}\n"
    ".hide{display:none}.parent rect{opacity:0.5}\n";

/* Flame graph behaviour: hover details, click to zoom, reset, search
 * (regex, highlight, matched percentage). Kept free of "]]>" and of any
 * network access. */
static const char flame_js[] =
    "(function(){\n"
    "var svg=document.documentElement,W=+svg.getAttribute('data-width'),X0=" "10" ",FW=12*0.59;\n"
    "var frames=Array.prototype.slice.call(document.querySelectorAll('g.f'));\n"
    "var details=document.getElementById('details'),unzoomB=document.getElementById('unzoom');\n"
    "var resetS=document.getElementById('resetsearch'),matchedT=document.getElementById('matched');\n"
    "var L=JSON.parse(svg.getAttribute('data-labels'));\n"
    "function num(g,a){return +g.getAttribute(a);}\n"
    "function fname(g){var t=g.querySelector('title').textContent;var i=t.lastIndexOf(' (');return i>0?t.substring(0,i):t;}\n"
    "function place(g,x,w){var r=g.querySelector('rect'),t=g.querySelector('text');var px=X0+x*(W-2*X0),pw=w*(W-2*X0);\n"
    " r.setAttribute('x',px.toFixed(2));r.setAttribute('width',pw.toFixed(2));t.setAttribute('x',(px+3).toFixed(2));\n"
    " var n=fname(g),fit=Math.floor((pw-6)/FW);t.textContent=fit<3?'':(n.length<=fit?n:n.substring(0,fit-2)+'..');}\n"
    "function zoom(g){var x0=num(g,'data-x'),w0=num(g,'data-w'),d0=num(g,'data-d'),e=1e-7;\n"
    " frames.forEach(function(f){var x=num(f,'data-x'),w=num(f,'data-w'),d=num(f,'data-d');\n"
    "  f.classList.remove('parent');\n"
    "  if(d<d0&&x<=x0+e&&x+w>=x0+w0-e){f.classList.remove('hide');f.classList.add('parent');place(f,0,1);}\n"
    "  else if(d>=d0&&x>=x0-e&&x+w<=x0+w0+e){f.classList.remove('hide');place(f,(x-x0)/w0,w/w0);}\n"
    "  else f.classList.add('hide');});\n"
    " unzoomB.classList.remove('hide');svg.setAttribute('data-zoomed',fname(g));}\n"
    "function unzoom(){frames.forEach(function(f){f.classList.remove('hide','parent');place(f,num(f,'data-x'),num(f,'data-w'));});\n"
    " unzoomB.classList.add('hide');svg.removeAttribute('data-zoomed');}\n"
    "function search(re){var m=[];frames.forEach(function(f){var r=f.querySelector('rect');\n"
    "  if(!r.hasAttribute('data-fill'))r.setAttribute('data-fill',r.getAttribute('fill'));\n"
    "  if(re&&re.test(fname(f))){r.setAttribute('fill','rgb(230,0,230)');m.push(f);}else r.setAttribute('fill',r.getAttribute('data-fill'));});\n"
    " if(!re){resetS.classList.add('hide');matchedT.textContent='';return;}\n"
    " m.sort(function(a,b){return num(a,'data-x')-num(b,'data-x')||num(a,'data-d')-num(b,'data-d');});\n"
    " var end=-1,sum=0;m.forEach(function(f){var x=num(f,'data-x'),w=num(f,'data-w');if(x>=end-1e-9){sum+=w;end=x+w;}});\n"
    " resetS.classList.remove('hide');matchedT.textContent=L.matched+(100*sum).toFixed(1)+'%';}\n"
    "frames.forEach(function(f){f.addEventListener('click',function(){zoom(f);});\n"
    " f.addEventListener('mouseover',function(){details.textContent=f.querySelector('title').textContent;});\n"
    " f.addEventListener('mouseout',function(){details.textContent=' ';});});\n"
    "unzoomB.addEventListener('click',unzoom);\n"
    "document.getElementById('search').addEventListener('click',function(){var s=window.prompt(L.prompt,'');\n"
    " if(s){try{search(new RegExp(s));}catch(e){search(null);}}});\n"
    "resetS.addEventListener('click',function(){search(null);});\n"
    "window.msFlame={zoom:zoom,unzoom:unzoom,search:function(s){search(s?new RegExp(s):null);return matchedT.textContent;}};\n"
    "})();\n";

typedef struct walk {
    uint32_t node;
    uint64_t x;                 /* value offset from the left             */
} walk;

int ms_flame_svg(FILE *fp, const ms_calltree *t, const ms_flame_opts *o)
{
    int m = o->metric, en = o->lang_en;
    unsigned W = o->width ? o->width : 1200;
    double pct = o->min_pct > 0 ? o->min_pct : o->min_pct < 0 ? 0 : 0.1;
    uint64_t total = ms_calltree_node_total(t, MS_CT_ROOT, m);
    double scale = total ? (W - 2.0 * XPAD) / (double)total : 0;
    /* frames below minv are folded: per parent into one "[N folded]"
     * frame when those add up to minv, else left out */
    double mv = (double)total * pct / 100.0;
    uint64_t minv = mv < 1 ? 1 : (uint64_t)mv + ((double)(uint64_t)mv < mv);

    /* Pass 1: deepest depth drawn (to size the image), what is folded. */
    size_t nn = ms_calltree_node_count(t);
    walk *st = malloc((nn + 1) * sizeof *st);
    if (!st) return -1;
    unsigned maxd = 0;
    size_t sp = 0, drawn = 0, folded = 0, folded_groups = 0;
    uint64_t folded_v = 0;
    if (total) st[sp++] = (walk){ MS_CT_ROOT, 0 };
    while (sp) {
        walk w = st[--sp];
        const ms_ct_node *nd = ms_calltree_node(t, w.node);
        if (nd->depth > maxd) maxd = nd->depth;
        uint64_t agg = 0;
        for (uint32_t c = nd->first_child; c != MS_CT_NONE; c = ms_calltree_node(t, c)->next_sibling) {
            uint64_t v = ms_calltree_node_total(t, c, m);
            if (!v) continue;
            if (v < minv) { folded++; folded_v += v; agg += v; continue; }
            st[sp++] = (walk){ c, 0 };
        }
        if (agg >= minv) { folded_groups++; if (nd->depth + 1 > maxd) maxd = nd->depth + 1; }
    }
    unsigned ytop = YPAD_TOP + (folded ? FRAME_H : 0);
    unsigned H = ytop + YPAD_BOTTOM + (maxd + 1) * FRAME_H;

    char title[512];
    if (o->title) snprintf(title, sizeof title, "%s", o->title);
    else snprintf(title, sizeof title, en ? "Memory flame graph (%s)" : "内存火焰图（%s）", ms_flame_metric_label(m, en));

    fprintf(fp, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
                "<svg version=\"1.1\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
                "xmlns=\"http://www.w3.org/2000/svg\" data-width=\"%u\" data-metric=\"%s\" data-total=\"%llu\" "
                "data-labels=\"", W, H, W, H, W, ms_ct_metric_name(m), (unsigned long long)total);
    ms_xml_escape(fp, en ? "{\"matched\":\"Matched: \",\"prompt\":\"Search (regular expression)\"}"
                         : "{\"matched\":\"匹配：\",\"prompt\":\"搜索（正则表达式）\"}");
    fprintf(fp, "\">\n<style type=\"text/css\"><![CDATA[\n%s]]></style>\n", flame_css);
    fprintf(fp, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"#f8f8f0\"/>\n", W, H);
    fprintf(fp, "<text id=\"title\" x=\"%u\" y=\"22\">", W / 2);
    ms_xml_escape(fp, title);
    fputs("</text>\n", fp);
    if (o->subtitle) {
        fprintf(fp, "<text id=\"subtitle\" x=\"%u\" y=\"40\">", W / 2);
        ms_xml_escape(fp, o->subtitle);
        fputs("</text>\n", fp);
    }
    fprintf(fp, "<text id=\"unzoom\" class=\"btn hide\" x=\"%d\" y=\"22\">%s</text>\n", XPAD, en ? "Reset zoom" : "重置缩放");
    fprintf(fp, "<text id=\"search\" class=\"btn\" x=\"%u\" y=\"22\" text-anchor=\"end\">%s</text>\n", W - XPAD, en ? "Search" : "搜索");
    fprintf(fp, "<text id=\"resetsearch\" class=\"btn hide\" x=\"%u\" y=\"40\" text-anchor=\"end\">%s</text>\n",
            W - XPAD, en ? "Reset search" : "清除搜索");
    fprintf(fp, "<text id=\"matched\" x=\"%u\" y=\"%u\" text-anchor=\"end\"></text>\n", W - XPAD, H - 12);
    fprintf(fp, "<text id=\"details\" x=\"%d\" y=\"%u\"> </text>\n", XPAD, H - 12);
    if (folded) {
        char n1[MS_FBUF_LEN], n2[MS_FBUF_LEN];
        ms_fmt_count(n1, folded);
        if (ms_ct_metric_is_bytes(m)) ms_fmt_bytes(n2, folded_v);
        else ms_fmt_count(n2, folded_v);
        fprintf(fp, "<text id=\"folded\" x=\"%u\" y=\"%u\" text-anchor=\"middle\" data-frames=\"%zu\" data-value=\"%llu\">",
                W / 2, YPAD_TOP + 4, folded, (unsigned long long)folded_v);
        if (en) fprintf(fp, "%s frames under %g%% of the total folded, with their callees: %s (%.2f%%)", n1, pct, n2,
                        100.0 * (double)folded_v / (double)total);
        else fprintf(fp, "已折叠 %s 个小于总量 %g%% 的帧（连同其被调用者）：%s（%.2f%%）", n1, pct, n2,
                     100.0 * (double)folded_v / (double)total);
        fputs("</text>\n", fp);
    }
    if (!total)
        fprintf(fp, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">%s</text>\n", W / 2, YPAD_TOP + 20,
                en ? "No data for this metric" : "该指标没有数据");

    /* Pass 2: frames in pre-order; x offsets from the left in value units. */
    const char *unit = ms_flame_unit_label(m, en);
    sp = 0;
    if (total) st[sp++] = (walk){ MS_CT_ROOT, 0 };
    uint32_t *kids = NULL;
    size_t kcap = 0;
    while (sp) {
        walk w = st[--sp];
        const ms_ct_node *nd = ms_calltree_node(t, w.node);
        uint64_t ntot = ms_calltree_node_total(t, w.node, m);
        const char *name = w.node == MS_CT_ROOT ? (en ? "all" : "全部") : ms_calltree_func(t, nd->func)->name;
        double fx = (double)w.x / (double)total, fw = (double)ntot / (double)total;
        double px = XPAD + w.x * scale, pw = ntot * scale;
        unsigned y = o->icicle ? ytop + nd->depth * FRAME_H : H - YPAD_BOTTOM - (nd->depth + 1) * FRAME_H;
        uint32_t h = name_hash(name);
        unsigned v1 = (h & 0xffff) * 210 / 0xffff, v2 = ((h >> 16) & 0xffff) * 50 / 0xffff;
        char num[MS_FBUF_LEN], pct[32];
        ms_fmt_count(num, ntot);
        snprintf(pct, sizeof pct, "%.2f%%", 100.0 * fw);
        fprintf(fp, "<g class=\"f\" data-x=\"%.9f\" data-w=\"%.9f\" data-d=\"%u\"><title>", fx, fw, nd->depth);
        ms_xml_escape(fp, name);
        fprintf(fp, " (%s %s, %s)</title><rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" height=\"%d\" fill=\"rgb(0,%u,%u)\" rx=\"2\" ry=\"2\"/>"
                    "<text x=\"%.2f\" y=\"%u\">", num, unit, pct, px, y, pw, FRAME_H - 1, 190 + v2, v1, px + 3, y + FRAME_H - 4);
        put_label(fp, name, pw);
        fputs("</text></g>\n", fp);
        drawn++;
        /* Children: push in reverse so they pop (and draw) left to right. */
        size_t k = 0;
        for (uint32_t c = nd->first_child; c != MS_CT_NONE; c = ms_calltree_node(t, c)->next_sibling) {
            if (k == kcap) {
                size_t ncap = kcap ? kcap * 2 : 64;
                uint32_t *nk = realloc(kids, ncap * sizeof *nk);
                if (!nk) { free(kids); free(st); return -1; }
                kids = nk; kcap = ncap;
            }
            kids[k++] = c;
        }
        uint64_t x = w.x, agg = 0;
        size_t nagg = 0;
        walk *base = st + sp;
        size_t pushed = 0;
        for (size_t i = 0; i < k; i++) {
            uint64_t v = ms_calltree_node_total(t, kids[i], m);
            if (!v) continue;
            if (v < minv) { agg += v; nagg++; continue; }
            base[pushed++] = (walk){ kids[i], x };
            x += v;
        }
        if (agg >= minv) {               /* the folded children, after the others */
            char label[96], num2[MS_FBUF_LEN];
            snprintf(label, sizeof label, en ? "[%zu folded]" : "[折叠 %zu 个]", nagg);
            double ax = (double)x / (double)total, aw = (double)agg / (double)total;
            unsigned ay = o->icicle ? ytop + (nd->depth + 1) * FRAME_H : H - YPAD_BOTTOM - (nd->depth + 2) * FRAME_H;
            ms_fmt_count(num2, agg);
            fprintf(fp, "<g class=\"f\" data-x=\"%.9f\" data-w=\"%.9f\" data-d=\"%u\" data-folded=\"%zu\"><title>%s (%s %s, %.2f%%)</title>"
                        "<rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" height=\"%d\" fill=\"rgb(200,200,200)\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%u\">",
                    ax, aw, nd->depth + 1, nagg, label, num2, unit, 100.0 * aw, XPAD + x * scale, ay, agg * scale, FRAME_H - 1,
                    XPAD + x * scale + 3, ay + FRAME_H - 4);
            put_label(fp, label, agg * scale);
            fputs("</text></g>\n", fp);
            drawn++;
        }
        for (size_t i = 0; i < pushed / 2; i++) {
            walk tmp = base[i]; base[i] = base[pushed - 1 - i]; base[pushed - 1 - i] = tmp;
        }
        sp += pushed;
    }
    free(kids);
    free(st);
    fprintf(fp, "<!-- frames: %zu drawn, %zu under %g%% of the total folded (%zu groups drawn) -->\n", drawn, folded, pct,
            folded_groups);
    fprintf(fp, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n</svg>\n", flame_js);
    return ferror(fp) ? -1 : 0;
}
