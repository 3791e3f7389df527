/* The offline HTML dashboard: templates/report.html, embedded into the
 * binary at build time (build/gen/report_html.c), written with its data
 * placeholder replaced by a JSON blob. The page needs no network and no
 * other file; the JSON goes inside <script type="application/json">, so
 * writers must produce it with ms_json_string (html_esc.h), which escapes
 * "</" so trace strings cannot end the script element. */
#ifndef MS_HTML_H
#define MS_HTML_H
#include <stdio.h>

/* Writes the JSON value of the page's data: an object with "kind" and
 * "lang" ("zh" or "en": the page's initial language; the page has a
 * 中文/English switch). "kind": "heap" is msconv's heap dashboard
 * (convert/msconv/heap_views_html.c); "kind": "snapshot" with a "snap"
 * object is the snapshot dashboard (convert/msconv/snapshot_html.c, which
 * documents its keys). Any other data gets the generic panels:
 *   "title": optional header text,
 *   "meta": {"file", "exe", "pid"} optional, shown in the header,
 *   "cards": [{"id", "label", "value", "raw", "sub"}] overview cards
 *            (raw = the exact number, put in data-v for tests),
 *   "tables": [{"id", "title", "note", "columns": [{"key", "label",
 *            "type": "bytes"|"count"|"text"}], "rows": [{key: value}]}]
 *            sortable tables (click a header);
 * every label/title/note/sub/value may be a string or {"zh": .., "en": ..}.
 * Write strings with ms_json_string. Returns 0, or non-zero to fail. */
typedef int (*ms_html_data_fn)(FILE *fp, void *ctx);

/* Write the dashboard: the template with @@MEMSCOPE_TITLE@@ replaced by
 * the escaped title and @@MEMSCOPE_DATA@@ by data's JSON. Returns 0, or -1
 * on a write error or when data fails. */
int ms_html_write(FILE *fp, const char *title, ms_html_data_fn data, void *ctx);

/* The embedded template (for tests). */
const char *ms_html_template(size_t *len);
#endif
