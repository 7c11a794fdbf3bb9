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
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "doc.h"
#include "explain.h"
#include "log.h"
#include "render.h"
#include "xmalloc.h"

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
#define RENDER_HTML_ZONE	(1024 * 1024)

/*
 * The page is written as the detail streams in: the document goes out
 * item by item, and only what the explanations read of each item
 * (explain_keep) is kept for them, since they follow the document.
 */
struct render_html {
	FILE			 *f;
	struct render_doc	 *doc;	/* NULL until the first item */
	msgpack_zone		 *zone;	/* the kept copies */
	const msgpack_object	**kept;
	size_t			  nkept;
	size_t			  cap;
};

static const char *
render_html_mark(void)
{
	return (strstr(render_html_tpl, RENDER_HTML_MARK));
}

struct render_html *
render_html_new(FILE *f)
{
	struct render_html	*h;

	h = xcalloc(1, sizeof(*h));
	h->f = f;
	if ((h->zone = msgpack_zone_new(RENDER_HTML_ZONE)) == NULL)
		fatalx("out of memory");
	return (h);
}

/* The template up to the document goes out with the first item. */
int
render_html_item(void *arg, const msgpack_object *item)
{
	struct render_html	*h = arg;
	const char		*mark;

	if (h->doc == NULL) {
		if ((mark = render_html_mark()) == NULL)
			return (-1);
		fwrite(render_html_tpl, 1, mark - render_html_tpl, h->f);
		h->doc = render_doc_new(h->f);
	}
	if (h->nkept == h->cap) {
		h->cap = h->cap == 0 ? 1024 : h->cap * 2;
		h->kept = xreallocarray(h->kept, h->cap, sizeof(*h->kept));
	}
	h->kept[h->nkept++] = explain_keep(h->zone, item);
	return (render_doc_item(h->doc, item));
}

/* The explanations, then the rest of the template. */
static int
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
render_html_end(struct render_html *h, int ok)
{
	struct doc	 d;
	int		 rc = -1;

	if (ok && h->doc == NULL)
		log_warnx("htracrd sent no session item in the detail");
	if (h->doc == NULL || render_doc_free(h->doc) == -1)
		ok = 0;
	if (ok) {
		/* doc_build takes the zone over, whatever it returns. */
		if (doc_build(&d, h->zone, h->kept, h->nkept) == 0)
			rc = render_html_rest(h->f, &d);
		h->zone = NULL;
		doc_free(&d);
	}
	if (h->zone != NULL)
		msgpack_zone_free(h->zone);
	free(h->kept);
	free(h);
	return (rc);
}

static int
render_html_array(struct render_html *h, const msgpack_object *a)
{
	uint32_t	 i;

	for (i = 0; i < render_count(a); i++)
		if (render_html_item(h, &a->via.array.ptr[i]) == -1)
			return (-1);
	return (0);
}

int
render_html(FILE *f, const struct doc *d)
{
	struct render_html	*h = render_html_new(f);
	int			 ok;

	ok = render_html_item(h, d->session) == 0 &&
	    render_html_array(h, d->servers) == 0 &&
	    render_html_array(h, d->connections) == 0 &&
	    render_html_array(h, d->transactions) == 0 &&
	    render_html_array(h, d->lookups) == 0;
	return (render_html_end(h, ok));
}
