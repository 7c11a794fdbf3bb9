/*
 * render_html.c: writes a session as one self-contained HTML page, the
 * browser timeline (client/timeline.html, embedded in htracrctl at build
 * time) with the session's detail document inlined as JSON. Runs in
 * htracrctl with the invoking user's privileges. The page makes no
 * network request and shows wire strings only as text; the JSON writer
 * (render.c) keeps "</script>" and U+2028/2029 from ending the data.
 */
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "doc.h"
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

/* Where the document goes; it appears once in the template. */
#define RENDER_HTML_MARK	"/*HTRACR-DATA*/"

int
render_html(FILE *f, const struct doc *d)
{
	const char	*mark;

	if ((mark = strstr(render_html_tpl, RENDER_HTML_MARK)) == NULL)
		return (-1);
	fwrite(render_html_tpl, 1, mark - render_html_tpl, f);
	if (render_json_value(f, &d->root) == -1)
		return (-1);
	fputs(mark + strlen(RENDER_HTML_MARK), f);
	fflush(f);
	return (ferror(f) ? -1 : 0);
}
