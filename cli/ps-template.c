/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker's look at a ps --format before it asks the daemon (buildContainerListOptions): the
 * template, as the user wrote it, is parsed and run once on an empty container.  A template that
 * fails there fails ps, with docker's wrapping of the error, before any request; and the run
 * tells whether the template reads .Size, which makes ps ask the daemon for sizes.
 */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "base/banned.h"

/* the empty ContainerContext, noting whether Size was read (the method or MarshalJSON) */
struct size_probe {
	struct tobj obj;
	const struct tobj *inner;
	bool size_used;
};

static int probe_call(const struct tobj *o, const char *name, json_t *const *args, size_t n,
		      json_t **ret, char **err)
{
	struct size_probe *p = o->data;

	if (strcmp(name, "Size") == 0)
		p->size_used = true;
	return p->inner->type->call(p->inner, name, args, n, ret, err);
}

static json_t *probe_json(const struct tobj *o)
{
	struct size_probe *p = o->data;

	/* docker's MarshalJSON calls every method, Size too */
	p->size_used = true;
	return p->inner->type->to_json(p->inner);
}

static const struct tobj_type probe_type = {
	.name = "*formatter.ContainerContext",
	.call = probe_call,
	.to_json = probe_json,
};

int ps_template_check(const char *format, bool *ret_size_used, char **err)
{
	_cleanup_tmpl_ struct tmpl *t = NULL;
	_cleanup_sbuf_ struct sbuf sink = SBUF_INIT;
	struct ctx_obj empty;
	struct size_probe probe = {.obj = {&probe_type, &probe}};
	char *e = NULL;
	int r;

	*ret_size_used = false;
	if (tmpl_parse("", format, NULL, &t, &e) < 0) {
		*err = xasprintf("failed to parse template: %s", e);
		free(e);
		return -1;
	}
	json_t *nothing = json_object();
	container_ctx_init(&empty, nothing, true);
	json_decref(nothing);
	probe.inner = &empty.obj;
	r = tmpl_exec(t, tval_obj(&probe.obj), TMPL_FUNCS_BASIC, &sink, &e);
	ctx_obj_release(&empty);
	if (r < 0) {
		*err = xasprintf("failed to execute template: %s", e);
		free(e);
		return -1;
	}
	*ret_size_used = probe.size_used;
	return 0;
}
