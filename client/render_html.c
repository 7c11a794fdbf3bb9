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

/* Where the document, explanations and shapes go; each appears once. */
#define RENDER_HTML_MARK	"/*HTRACR-DATA*/"
#define RENDER_HTML_EXPLAIN	"/*HTRACR-EXPLAIN*/"
#define RENDER_HTML_SHAPES	"/*HTRACR-SHAPES*/"

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
render_html_rest(FILE *f, const struct doc *d, struct render_pack *rp)
{
	const char	*rest, *at;

	rest = render_html_mark() + strlen(RENDER_HTML_MARK);
	if ((at = strstr(rest, RENDER_HTML_EXPLAIN)) != NULL) {
		fwrite(rest, 1, at - rest, f);
		fflush(f);
		explain_json_all(f, d);
		rest = at + strlen(RENDER_HTML_EXPLAIN);
	}
	if ((at = strstr(rest, RENDER_HTML_SHAPES)) != NULL) {
		fwrite(rest, 1, at - rest, f);
		fflush(f);
		render_pack_code(rp, f);
		rest = at + strlen(RENDER_HTML_SHAPES);
	}
	fputs(rest, f);
	fflush(f);
	return (ferror(f) ? -1 : 0);
}

/* An assembled document, its items packed in the order they came. */
int
render_html(FILE *f, const struct doc *d)
{
	const msgpack_object	*lists[] = { d->servers, d->connections,
				    d->transactions, d->lookups };
	struct render_pack	*rp;
	size_t			 k;
	uint32_t		 i;
	int			 rc = 0;

	if (render_html_head(f) == -1)
		return (-1);
	rp = render_pack_new(f);
	if (d->session != NULL)
		rc = render_pack_item(rp, d->session);
	for (k = 0; k < sizeof(lists) / sizeof(lists[0]) && rc == 0; k++)
		for (i = 0; i < render_count(lists[k]) && rc == 0; i++)
			rc = render_pack_item(rp, &lists[k]->via.array.ptr[i]);
	if (render_pack_close(rp) == -1)
		rc = -1;
	if (rc == 0)
		rc = render_html_rest(f, d, rp);
	render_pack_free(rp);
	return (rc);
}
