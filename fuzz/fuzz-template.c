/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's template engine: parse any input as a Go template and, when it parses, run it on a
 * JSON document with and without a schema (bounded in steps and output), and print its nodes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char doc[] =
	"{\"Client\":{\"Version\":\"1\",\"Context\":\"default\"},\"Server\":{\"Platform\":{"
	"\"Name\":"
	"\"x\"},\"Components\":[{\"Name\":\"Engine\",\"Version\":\"1\",\"Details\":{\"a\":\"b\"}}],"
	"\"Version\":\"1\",\"ApiVersion\":\"1.44\"},\"List\":[1,2.5,\"s\",true,null,{\"k\":[]}],"
	"\"Labels\":{\"a\":\"1\",\"b\":\"2\"},\"N\":-3}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct tmpl *t = NULL;
	char *err = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	tmpl_max_steps = 20000;
	tmpl_max_output = 1 << 20;
	if (tmpl_parse("fuzz", text, version_funcs, &t, &err) == 0) {
		json_t *j = json_loads(doc, 0, NULL);
		struct sbuf out = SBUF_INIT;
		if (tmpl_exec(t, tval_json(j, NULL), TMPL_FUNCS_BASIC, &out, &err) < 0)
			free(err);
		sbuf_reset(&out);
		if (tmpl_exec(t, tval_json(j, &version_schema), TMPL_FUNCS_BASIC, &out, &err) < 0)
			free(err);
		sbuf_reset(&out);
		if (tmpl_exec(t, tval_json(j, NULL), TMPL_FUNCS_HEADER, &out, &err) < 0)
			free(err);
		sbuf_release(&out);
		json_decref(j);
		tmpl_free(t);
	} else {
		free(err);
	}
	free(text);
	return 0;
}
