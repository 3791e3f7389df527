/* Escaping of trace strings (function names, thread names, paths, command
 * lines) for the markup and script outputs: XML/HTML text and attributes,
 * JSON strings safe inside an HTML <script> element. Every string from a
 * trace goes through one of these; invalid UTF-8 becomes U+FFFD and
 * control characters become spaces or \u escapes, so the output is always
 * well-formed whatever the bytes in the trace. */
#ifndef MS_HTML_ESC_H
#define MS_HTML_ESC_H
#include <stdio.h>
#include <stddef.h>

/* XML text or attribute value: & < > " ' escaped; controls -> ' '. */
void ms_xml_escape(FILE *fp, const char *s);
/* Same for at most n bytes of s (stops early at NUL). */
void ms_xml_escape_n(FILE *fp, const char *s, size_t n);
/* A JSON string with its quotes; "</" written as "<\/" and "<!--" with
 * "\u003c" so the text can sit inside <script> without ending it. */
void ms_json_string(FILE *fp, const char *s);
#endif
