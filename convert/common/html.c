/* HTML dashboard writer (html.h): copies the template embedded at build
 * time (Makefile: templates/report.html -> build/gen/report_html.c) and
 * fills its two placeholders, the page title and the JSON data blob. The
 * template stays one self-contained file so it can be opened and edited
 * like any web page; embedding it means msconv finds it wherever it is
 * installed. */
#include <string.h>
#include "html.h"
#include "html_esc.h"

extern const unsigned char ms_report_html[];
extern const unsigned long ms_report_html_len;

const char *ms_html_template(size_t *len)
{
    *len = (size_t)ms_report_html_len;
    return (const char *)ms_report_html;
}

static const char PH_TITLE[] = "@@MEMSCOPE_TITLE@@";
static const char PH_DATA[] = "@@MEMSCOPE_DATA@@";

int ms_html_write(FILE *fp, const char *title, ms_html_data_fn data, void *ctx)
{
    size_t len;
    const char *t = ms_html_template(&len), *end = t + len;
    int data_done = 0;
    while (t < end) {
        const char *at = memchr(t, '@', (size_t)(end - t));
        if (!at) { fwrite(t, 1, (size_t)(end - t), fp); break; }
        fwrite(t, 1, (size_t)(at - t), fp);
        size_t left = (size_t)(end - at);
        if (left >= sizeof PH_TITLE - 1 && memcmp(at, PH_TITLE, sizeof PH_TITLE - 1) == 0) {
            ms_xml_escape(fp, title ? title : "memscope");
            t = at + sizeof PH_TITLE - 1;
        } else if (left >= sizeof PH_DATA - 1 && memcmp(at, PH_DATA, sizeof PH_DATA - 1) == 0) {
            if (data(fp, ctx) != 0) return -1;
            data_done = 1;
            t = at + sizeof PH_DATA - 1;
        } else {
            fputc('@', fp);
            t = at + 1;
        }
    }
    if (!data_done) return -1;
    return ferror(fp) ? -1 : 0;
}
