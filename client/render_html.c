/*
 * render_html.c: writes a session as one self-contained HTML page, the
 * browser timeline (client/timeline.html, embedded in htracrctl at build
 * time) with the session's detail document inlined as JSON. Runs in
 * htracrctl with the invoking user's privileges. The page makes no
 * network request and shows wire strings only as text; the JSON writer
 * (render.c) keeps "</script>" and U+2028/2029 from ending the data.
 * Each transaction's explanation (explain.h) goes in a second data
 * element; it holds only numbers and htracr's own words.
 */
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "doc.h"
#include "explain.h"
#include "render.h"

/*
 * The template, placed in .rodata by the assembler so no generated
 * file or tool is needed; the Makefile makes this object depend on it.
 * A NUL follows so it can be searched as a string.
 */
__asm__(
	"	.section .rodata\n"
	"	.balign 16\n"
	"render_html_tpl:\n"
	"	.incbin \"client/timeline.html\"\n"
	"	.byte 0\n"
	"	.previous\n"
);
extern const char render_html_tpl[];

/* Where the document and the explanations go; each appears once. */
#define RENDER_HTML_MARK	"/*HTRACR-DATA*/"
#define RENDER_HTML_EXPLAIN	"/*HTRACR-EXPLAIN*/"

static const char *
render_html_mark(void)
{
	return (strstr(render_html_tpl, RENDER_HTML_MARK));
}

int
render_html_head(FILE *f)
{
	const char	*mark;

	if ((mark = render_html_mark()) == NULL)
		return (-1);
	fwrite(render_html_tpl, 1, mark - render_html_tpl, f);
	return (0);
}

int
render_html_rest(FILE *f, const struct doc *d)
{
	const char	*rest, *ex;

	rest = render_html_mark() + strlen(RENDER_HTML_MARK);
	if ((ex = strstr(rest, RENDER_HTML_EXPLAIN)) != NULL) {
		fwrite(rest, 1, ex - rest, f);
		fflush(f);
		explain_json_all(f, d);
		rest = ex + strlen(RENDER_HTML_EXPLAIN);
	}
	fputs(rest, f);
	fflush(f);
	return (ferror(f) ? -1 : 0);
}

int
render_html(FILE *f, const struct doc *d)
{
	if (render_html_head(f) == -1 ||
	    render_json_value(f, &d->root) == -1)
		return (-1);
	return (render_html_rest(f, d));
}
