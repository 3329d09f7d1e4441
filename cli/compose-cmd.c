/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth compose: the commands (docker compose v2's) over the canonical model (compose.h) and the
 * Engine API.  The project's containers are found by docker compose's labels, so projects started
 * by docker compose or docker-compose 1.29 are seen and handled the same way:
 *   com.docker.compose.project / .service / .container-number / .oneoff / .config-hash /
 *   .project.working_dir / .project.config_files / .depends_on / .version
 * Containers are named <project>-<service>-<n>, networks <project>_<name>, volumes
 * <project>_<name>.  up converges: a container whose config hash is the service's is left alone,
 * one whose hash differs is recreated, extra replicas are removed from the highest number down.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive-dl.h"
#include "build-context.h"
#include "cli.h"
#include "commands.h"
#include "compose.h"
#include "format.h"
#include "reference.h"
#include "runopts.h"
#include "tabwriter.h"
#include "units.h"
#include "base/banned.h"

#define LBL "com.docker.compose."

struct cx {
	struct cli *c;
	struct compose_project p;
};

/* ---- small API helpers ------------------------------------------------------------------------ */

static int BERTH_PRINTF(4, 5)
	api(struct cx *x, const char *method, json_t *body, const char *fmt, ...)
{
	struct cli_response r;
	va_list ap;
	char *t;

	va_start(ap, fmt);
	if (vasprintf(&t, fmt, ap) < 0)
		cli_oom();
	va_end(ap);
	int rc = cli_call(x->c, method, t, body, &r);
	free(t);
	if (rc == 0)
		cli_response_release(&r);
	return rc;
}

static json_t *api_json(struct cx *x, const char *target)
{
	struct cli_response r;

	if (cli_call(x->c, "GET", target, NULL, &r) < 0)
		return NULL;
	json_t *j = json_incref(r.json);
	cli_response_release(&r);
	return j;
}

static void progress(const char *kind, const char *name, const char *what)
{
	out_flush();
	err_printf(" %s %s  %s\n", kind, name, what);
}

static const char *label(const json_t *ctr, const char *key)
{
	char k[128];

	snprintf(k, sizeof(k), LBL "%s", key);
	return json_string_value(json_object_get(json_object_get(ctr, "Labels"), k));
}

static int ctr_number(const json_t *ctr)
{
	const char *n = label(ctr, "container-number");
	return n ? (int)strtol(n, NULL, 10) : 0;
}

static const char *ctr_name(const json_t *ctr)
{
	const char *n = json_string_value(json_array_get(json_object_get(ctr, "Names"), 0));
	return n ? (*n == '/' ? n + 1 : n) : json_string_value(json_object_get(ctr, "Id"));
}

static const char *ctr_id(const json_t *ctr)
{
	return json_string_value(json_object_get(ctr, "Id"));
}

static bool ctr_running(const json_t *ctr)
{
	const char *s = json_string_value(json_object_get(ctr, "State"));
	return s && (!strcmp(s, "running") || !strcmp(s, "restarting") || !strcmp(s, "paused"));
}

static int cmp_number(const void *a, const void *b)
{
	return ctr_number(*(json_t *const *)a) - ctr_number(*(json_t *const *)b);
}

/*
 * The project's containers (oneoff: also run's), all states, sorted by service then number.
 * service: only that one (NULL: every one).  Returns a new array or NULL with the error printed.
 */
static json_t *project_containers(struct cx *x, const char *service, bool oneoff)
{
	struct sbuf t = SBUF_INIT, f = SBUF_INIT;
	json_t *filters = json_pack("{s:[s+]}", "label", LBL "project=", x->p.name);

	if (service)
		json_array_append_new(json_object_get(filters, "label"),
				      json_sprintf(LBL "service=%s", service));
	if (!oneoff)
		json_array_append_new(json_object_get(filters, "label"),
				      json_string(LBL "oneoff=False"));
	char *fj = json_dumps(filters, JSON_COMPACT);
	url_escape(&f, fj);
	sbuf_printf(&t, "/containers/json?all=1&filters=%s", sbuf_str(&f));
	json_t *list = api_json(x, sbuf_str(&t));
	free(fj);
	json_decref(filters);
	sbuf_release(&t);
	sbuf_release(&f);
	if (!list) {
		err_printf("%s\n", x->c->err);
		return NULL;
	}
	size_t n = json_array_size(list);
	json_t **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof(*v), cmp_number);
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(list);
	return out;
}

/* The name berthd knows the model's networks or volumes (section) entry key by. */
static char *object_name(struct cx *x, const char *section, const char *key)
{
	json_t *n = json_object_get(json_object_get(x->p.model, section), key);
	const char *name = json_string_value(json_object_get(n, "name"));

	if (name)
		return xstrdup(name);
	if (json_is_true(json_object_get(n, "external")))
		return xstrdup(key);
	return xasprintf("%s_%s", x->p.name, key);
}

static char *network_name(struct cx *x, const char *key)
{
	return object_name(x, "networks", key);
}

static char *volume_name(struct cx *x, const char *key)
{
	return object_name(x, "volumes", key);
}

/* ---- tables ------------------------------------------------------------------------------------ */

struct tbl {
	struct tabwriter t;
	struct sbuf out;
};

static void tbl_init(struct tbl *b)
{
	memset(b, 0, sizeof(*b));
	tw_init(&b->t, &b->out, 10, 1, 3, ' ');
}

static void BERTH_PRINTF(2, 3) tbl_printf(struct tbl *b, const char *fmt, ...)
{
	struct sbuf s = SBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(&s, fmt, ap);
	va_end(ap);
	tw_write(&b->t, s.p ? s.p : "", s.len);
	sbuf_release(&s);
}

static void tbl_flush(struct tbl *b)
{
	tw_flush(&b->t);
	out_write(b->out.p ? b->out.p : "", b->out.len);
	sbuf_reset(&b->out);
}

static void tbl_release(struct tbl *b)
{
	tw_release(&b->t);
	sbuf_release(&b->out);
}

/* ---- what up made, to take back on failure ------------------------------------------------------ */

struct made {
	char **networks, **volumes, **containers;
};

static void made_release(struct made *m)
{
	berth_strv_free(m->networks);
	berth_strv_free(m->volumes);
	berth_strv_free(m->containers);
	memset(m, 0, sizeof(*m));
}

static void made_undo(struct cx *x, struct made *m)
{
	for (size_t i = 0; m->containers && m->containers[i]; i++)
		api(x, "DELETE", NULL, "/containers/%s?force=1&v=1", m->containers[i]);
	for (size_t i = 0; m->networks && m->networks[i]; i++)
		api(x, "DELETE", NULL, "/networks/%s", m->networks[i]);
	for (size_t i = 0; m->volumes && m->volumes[i]; i++)
		api(x, "DELETE", NULL, "/volumes/%s", m->volumes[i]);
}

/* ---- networks and volumes ---------------------------------------------------------------------- */

/*
 * The start both ensure_network and ensure_volume make: 1 when the object NAME exists under
 * COLLECTION ("/networks/", "/volumes/"), 0 when it does not and may be created, 2 when it does
 * not but its definition DEF says it is external (the caller names the error), -1 on any other
 * error.  On 0, *labels holds compose's labels for it (KIND_LABEL=key, project, version) with
 * the definition's own labels over them.
 */
static int lookup_or_labels(struct cx *x, const char *collection, const char *kind_label,
			    const char *key, const char *name, json_t *def, json_t **labels)
{
	struct sbuf t = SBUF_INIT;

	sbuf_adds(&t, collection);
	url_path_escape(&t, name);
	json_t *have = api_json(x, sbuf_str(&t));
	sbuf_release(&t);
	if (have) {
		json_decref(have);
		return 1;
	}
	if (x->c->err_status != 404)
		return -1;
	if (json_is_true(json_object_get(def, "external")))
		return 2;
	*labels = json_pack("{s:s, s:s, s:s}", kind_label, key, LBL "project", x->p.name,
			    LBL "version", BERTH_VERSION);
	json_object_update(*labels, json_object_get(def, "labels"));
	return 0;
}

/*
 * The end both ensure_network and ensure_volume make: POST body (taken) to path; on success
 * name joins made (what up takes back on failure) and its progress line says title.  Frees name.
 */
static int create_object(struct cx *x, const char *path, json_t *body, char *name, char ***made,
			 const char *title)
{
	int r = api(x, "POST", body, "%s", path);

	json_decref(body);
	if (r == 0) {
		berth_strv_push(made, name);
		progress(title, name, "Created");
	}
	free(name);
	return r;
}

static int ensure_network(struct cx *x, const char *key, struct made *m)
{
	json_t *def = json_object_get(json_object_get(x->p.model, "networks"), key);
	char *name = network_name(x, key);
	json_t *labels;
	int r = lookup_or_labels(x, "/networks/", LBL "network", key, name, def, &labels);

	if (r == 2)
		cli_errorf(x->c, "network %s declared as external, but could not be found", name);
	if (r != 0) {
		free(name);
		return r == 1 ? 0 : -1;
	}
	json_t *opts = json_object_get(def, "driver_opts");
	json_t *body = json_pack("{s:s, s:s, s:o, s:b, s:b, s:b, s:o}", "Name", name, "Driver",
				 json_string_value(json_object_get(def, "driver")) ?: "bridge",
				 "Labels", labels, "CheckDuplicate", true, "Internal",
				 json_is_true(json_object_get(def, "internal")), "Attachable",
				 json_is_true(json_object_get(def, "attachable")), "Options",
				 opts ? json_incref(opts) : json_object());
	return create_object(x, "/networks/create", body, name, &m->networks, "Network");
}

static int ensure_volume(struct cx *x, const char *key, struct made *m)
{
	json_t *def = json_object_get(json_object_get(x->p.model, "volumes"), key);
	char *name = volume_name(x, key);
	json_t *labels;
	int r = lookup_or_labels(x, "/volumes/", LBL "volume", key, name, def, &labels);

	if (r == 2)
		cli_errorf(x->c, "external volume \"%s\" not found", name);
	if (r != 0) {
		free(name);
		return r == 1 ? 0 : -1;
	}
	json_t *opts = json_object_get(def, "driver_opts");
	json_t *body =
		json_pack("{s:s, s:s, s:o, s:o}", "Name", name, "Driver",
			  json_string_value(json_object_get(def, "driver")) ?: "local", "Labels",
			  labels, "DriverOpts", opts ? json_incref(opts) : json_object());
	return create_object(x, "/volumes/create", body, name, &m->volumes, "Volume");
}

/* ---- the create request of a service's container ----------------------------------------------- */

static json_t *env_list(const json_t *env)
{
	json_t *out = json_array();
	const char *k;
	json_t *v;

	json_object_foreach ((json_t *)env, k, v)
		json_array_append_new(out, json_sprintf("%s=%s", k, json_string_value(v) ?: ""));
	return out;
}

static const char *service_image(struct cx *x, const char *svc_name, const json_t *svc,
				 char **owned)
{
	const char *img = json_string_value(json_object_get(svc, "image"));

	*owned = NULL;
	if (img)
		return img;
	*owned = xasprintf("%s-%s", x->p.name, svc_name);
	return *owned;
}

/* The first container of a service, for network_mode: service:x (NULL: none). */
static char *service_first_id(struct cx *x, const char *service)
{
	json_t *list = project_containers(x, service, false);
	const char *id = ctr_id(json_array_get(list, 0));
	char *out = id ? xstrdup(id) : NULL;

	json_decref(list);
	return out;
}

/*
 * A long-syntax volume as compose sends it: a HostConfig.Mounts item (Type, Source, Target,
 * ReadOnly and the type's options), where a bind's missing source is an error unless
 * create_host_path, and a volume may have a subpath.  (A bind with selinux relabelling goes
 * to Binds instead, as compose does: Mounts have no z/Z.)
 */
static json_t *long_mount(struct cx *x, const json_t *v)
{
	const char *type = json_string_value(json_object_get(v, "type"));
	const char *src = json_string_value(json_object_get(v, "source")) ?: "";
	const json_t *o = json_object_get(v, type);
	json_t *m = json_pack("{s:s, s:s, s:b}", "Type", type, "Target",
			      json_string_value(json_object_get(v, "target")), "ReadOnly",
			      json_is_true(json_object_get(v, "read_only")));
	const char *s;

	if (!strcmp(type, "volume") && *src) {
		char *vn = volume_name(x, src);
		json_object_set_new(m, "Source", json_string(vn));
		free(vn);
	} else if (!strcmp(type, "bind"))
		json_object_set_new(m, "Source", json_string(src));
	if (!o)
		return m;
	if (!strcmp(type, "bind")) {
		json_t *b = json_object();
		if ((s = json_string_value(json_object_get(o, "propagation"))))
			json_object_set_new(b, "Propagation", json_string(s));
		if (json_is_true(json_object_get(o, "create_host_path")))
			json_object_set_new(b, "CreateMountpoint", json_true());
		json_object_set_new(m, "BindOptions", b);
	} else if (!strcmp(type, "volume")) {
		json_t *vo = json_object();
		if (json_is_true(json_object_get(o, "nocopy")))
			json_object_set_new(vo, "NoCopy", json_true());
		if ((s = json_string_value(json_object_get(o, "subpath"))))
			json_object_set_new(vo, "Subpath", json_string(s));
		json_object_set_new(m, "VolumeOptions", vo);
	} else {
		json_t *to = json_object(), *n;
		if ((n = json_object_get(o, "size")))
			json_object_set(to, "SizeBytes", n);
		if ((n = json_object_get(o, "mode")))
			json_object_set(to, "Mode", n);
		json_object_set_new(m, "TmpfsOptions", to);
	}
	return m;
}

static int build_create(struct cx *x, const char *name, const json_t *svc, int number, bool oneoff,
			const char *cname, json_t **ret)
{
	json_t *cfg = json_object(), *hc = json_object(), *labels = json_object();
	const char *s;
	json_t *v;
	size_t i;
	char *owned;
	char num[16];
	char *err = NULL;

	snprintf(num, sizeof(num), "%d", number);
	json_object_update(labels, json_object_get(svc, "labels"));
	char *hash = compose_config_hash(svc);
	struct sbuf deps = SBUF_INIT;
	json_object_foreach (json_object_get(svc, "depends_on"), s, v)
		sbuf_printf(&deps, "%s%s:%s:%s", deps.len ? "," : "", s,
			    json_string_value(json_object_get(v, "condition")),
			    json_is_true(json_object_get(v, "restart")) ? "true" : "false");
	json_object_update(labels,
			   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", LBL "project",
				     x->p.name, LBL "service", name, LBL "container-number", num,
				     LBL "oneoff", oneoff ? "True" : "False", LBL "config-hash",
				     hash, LBL "project.working_dir", x->p.workdir,
				     LBL "project.config_files", x->p.config_files, LBL "version",
				     BERTH_VERSION, LBL "depends_on", sbuf_str(&deps)));
	free(hash);
	sbuf_release(&deps);
	json_object_set_new(cfg, "Labels", labels);
	json_object_set_new(cfg, "Image", json_string(service_image(x, name, svc, &owned)));
	free(owned);
	if ((v = json_object_get(svc, "command")) && !json_is_null(v))
		json_object_set(cfg, "Cmd", v);
	if ((v = json_object_get(svc, "entrypoint")) && !json_is_null(v))
		json_object_set(cfg, "Entrypoint", v);
	json_object_set_new(cfg, "Env", env_list(json_object_get(svc, "environment")));
	static const char *const strs[][2] = {{"user", "User"},
					      {"working_dir", "WorkingDir"},
					      {"hostname", "Hostname"},
					      {"domainname", "Domainname"},
					      {"stop_signal", "StopSignal"}};
	for (i = 0; i < ARRAY_SIZE(strs); i++)
		if ((s = json_string_value(json_object_get(svc, strs[i][0]))))
			json_object_set_new(cfg, strs[i][1], json_string(s));
	json_object_set(cfg, "Tty", json_object_get(svc, "tty") ?: json_false());
	json_object_set(cfg, "OpenStdin", json_object_get(svc, "stdin_open") ?: json_false());
	if ((v = json_object_get(svc, "stop_grace_period")))
		json_object_set_new(cfg, "StopTimeout",
				    json_integer(json_integer_value(v) / 1000000000));
	/* healthcheck */
	json_t *h = json_object_get(svc, "healthcheck");
	if (h) {
		json_t *hj = json_object();
		static const char *const hk[][2] = {{"test", "Test"},
						    {"interval", "Interval"},
						    {"timeout", "Timeout"},
						    {"retries", "Retries"},
						    {"start_period", "StartPeriod"},
						    {"start_interval", "StartInterval"}};
		for (i = 0; i < ARRAY_SIZE(hk); i++)
			if ((v = json_object_get(h, hk[i][0])))
				json_object_set(hj, hk[i][1], v);
		json_object_set_new(cfg, "Healthcheck", hj);
	}
	/* ports */
	json_t *exposed = json_object(), *bindings = json_object();
	json_array_foreach (json_object_get(svc, "ports"), i, v) {
		struct sbuf spec = SBUF_INIT;
		const char *pub = json_string_value(json_object_get(v, "published"));
		const char *ip = json_string_value(json_object_get(v, "host_ip"));
		if (ip && *ip)
			sbuf_printf(&spec, "%s%s%s:%s:", strchr(ip, ':') ? "[" : "", ip,
				    strchr(ip, ':') ? "]" : "", pub ? pub : "");
		else if (pub && *pub)
			sbuf_printf(&spec, "%s:", pub);
		sbuf_printf(&spec, "%lld/%s",
			    (long long)json_integer_value(json_object_get(v, "target")),
			    json_string_value(json_object_get(v, "protocol")) ?: "tcp");
		int r = port_spec_parse(sbuf_str(&spec), exposed, bindings, &err);
		sbuf_release(&spec);
		if (r < 0)
			goto bad;
	}
	json_array_foreach (json_object_get(svc, "expose"), i, v)
		if (expose_parse(json_string_value(v), exposed, &err) < 0)
			goto bad;
	json_object_set_new(cfg, "ExposedPorts", exposed);
	json_object_set_new(hc, "PortBindings", bindings);
	/* mounts */
	json_t *binds = json_array(), *tmpfs = json_object(), *anon = json_object(), *mounts = NULL;
	json_object_set_new(hc, "Binds", binds);
	json_object_set_new(hc, "Tmpfs", tmpfs);
	json_object_set_new(cfg, "Volumes", anon);
	json_array_foreach (json_object_get(svc, "volumes"), i, v) {
		const char *type = json_string_value(json_object_get(v, "type"));
		const char *src = json_string_value(json_object_get(v, "source"));
		const char *dst = json_string_value(json_object_get(v, "target"));
		const char *mode = json_is_true(json_object_get(v, "read_only")) ? "ro" : "rw";
		const char *selinux =
			json_string_value(json_object_get(json_object_get(v, "bind"), "selinux"));
		if (selinux && !strcmp(type, "bind")) {
			const char *prop = json_string_value(
				json_object_get(json_object_get(v, "bind"), "propagation"));
			json_array_append_new(binds, json_sprintf("%s:%s:%s,%s%s%s", src, dst, mode,
								  selinux, prop ? "," : "",
								  prop ? prop : ""));
		} else if (json_is_true(json_object_get(v, "long"))) {
			if (!mounts) {
				mounts = json_array();
				json_object_set_new(hc, "Mounts", mounts);
			}
			json_array_append_new(mounts, long_mount(x, v));
		} else if (!strcmp(type, "tmpfs")) {
			json_object_set_new(tmpfs, dst, json_string(""));
		} else if (!strcmp(type, "volume") && (!src || !*src)) {
			json_object_set_new(anon, dst, json_object());
		} else if (!strcmp(type, "volume")) {
			char *vn = volume_name(x, src);
			json_array_append_new(binds, json_sprintf("%s:%s:%s", vn, dst, mode));
			free(vn);
		} else {
			json_array_append_new(binds, json_sprintf("%s:%s:%s", src, dst, mode));
		}
	}
	json_array_foreach (json_object_get(svc, "tmpfs"), i, v)
		if (tmpfs_parse(json_string_value(v), tmpfs, &err) < 0)
			goto bad;
	for (int w = 0; w < 2; w++) {
		const char *sec = w ? "configs" : "secrets";
		json_array_foreach (json_object_get(svc, sec), i, v) {
			json_t *def =
				json_object_get(json_object_get(x->p.model, sec),
						json_string_value(json_object_get(v, "source")));
			json_array_append_new(
				binds,
				json_sprintf("%s:%s:ro",
					     json_string_value(json_object_get(def, "file")),
					     json_string_value(json_object_get(v, "target"))));
		}
	}
	/* networks: the first (by priority, then name) is the mode, every one an endpoint */
	const char *nm = json_string_value(json_object_get(svc, "network_mode"));
	json_t *eps = json_object();
	if (nm && berth_str_has_prefix(nm, "service:")) {
		char *id = service_first_id(x, nm + 8);
		if (!id) {
			err = xasprintf("service %s: network_mode %s: no container of service %s",
					name, nm, nm + 8);
			json_decref(eps);
			goto bad;
		}
		json_object_set_new(hc, "NetworkMode", json_sprintf("container:%s", id));
		free(id);
	} else if (nm) {
		json_object_set_new(hc, "NetworkMode", json_string(nm));
	} else {
		const char *best = NULL;
		json_int_t best_prio = 0;
		json_object_foreach (json_object_get(svc, "networks"), s, v) {
			json_int_t prio = json_integer_value(json_object_get(v, "priority"));
			if (!best || prio > best_prio ||
			    (prio == best_prio && strcmp(s, best) < 0)) {
				best = s;
				best_prio = prio;
			}
			char *full = network_name(x, s);
			json_t *al = json_pack("[s]", name);
			json_array_extend(al, json_object_get(v, "aliases") ?: json_array());
			json_t *ep = json_pack("{s:o}", "Aliases", al);
			const char *ip = json_string_value(json_object_get(v, "ipv4_address"));
			if (ip)
				json_object_set_new(ep, "IPAMConfig",
						    json_pack("{s:s}", "IPv4Address", ip));
			json_object_set_new(eps, full, ep);
			free(full);
		}
		if (best) {
			char *full = network_name(x, best);
			json_object_set_new(hc, "NetworkMode", json_string(full));
			free(full);
		}
	}
	json_t *nc = json_pack("{s:o}", "EndpointsConfig", eps);
	/* the rest of HostConfig */
	if ((s = json_string_value(json_object_get(svc, "restart")))) {
		json_t *rp = restart_parse(s, &err);
		if (!rp) {
			json_decref(nc);
			goto bad;
		}
		json_object_set_new(hc, "RestartPolicy", rp);
	}
	json_t *lim = json_object_get(json_object_get(json_object_get(svc, "deploy"), "resources"),
				      "limits");
	int64_t mem = json_integer_value(json_object_get(svc, "mem_limit"));
	if (json_object_get(lim, "memory"))
		mem = json_integer_value(json_object_get(lim, "memory"));
	if (mem)
		json_object_set_new(hc, "Memory", json_integer(mem));
	if ((v = json_object_get(svc, "memswap_limit")))
		json_object_set(hc, "MemorySwap", v);
	const char *cpus = json_string_value(json_object_get(lim, "cpus"))
				   ?: json_string_value(json_object_get(svc, "cpus"));
	if (cpus) {
		int64_t nano;
		if (nano_cpus_parse(cpus, &nano, &err) < 0) {
			json_decref(nc);
			goto bad;
		}
		json_object_set_new(hc, "NanoCpus", json_integer(nano));
	}
	if ((v = json_object_get(lim, "pids") ?: json_object_get(svc, "pids_limit")))
		json_object_set(hc, "PidsLimit", v);
	static const char *const hcs[][2] = {
		{"privileged", "Privileged"},
		{"read_only", "ReadonlyRootfs"},
		{"init", "Init"},
		{"cap_add", "CapAdd"},
		{"cap_drop", "CapDrop"},
		{"dns", "Dns"},
		{"dns_search", "DnsSearch"},
		{"extra_hosts", "ExtraHosts"},
		{"shm_size", "ShmSize"},
		{"sysctls", "Sysctls"},
		{"pid", "PidMode"},
		{"ipc", "IpcMode"},
		{"group_add", "GroupAdd"},
		{"links", "Links"},
	};
	for (i = 0; i < ARRAY_SIZE(hcs); i++)
		if ((v = json_object_get(svc, hcs[i][0])))
			json_object_set(hc, hcs[i][1], v);
	json_t *sec = json_array();
	json_array_foreach (json_object_get(svc, "security_opt"), i, v) {
		char *o = security_opt_parse(json_string_value(v), &err);
		if (!o) {
			json_decref(sec);
			json_decref(nc);
			goto bad;
		}
		json_array_append_new(sec, json_string(o));
		free(o);
	}
	json_object_set_new(hc, "SecurityOpt", sec);
	json_t *devs = json_array();
	json_object_set_new(hc, "Devices", devs);
	json_array_foreach (json_object_get(svc, "devices"), i, v) {
		json_t *d = device_parse(json_string_value(v), &err);
		if (!d) {
			json_decref(nc);
			goto bad;
		}
		json_array_append_new(devs, d);
	}
	json_t *ul = json_array();
	json_object_set_new(hc, "Ulimits", ul);
	json_object_foreach (json_object_get(svc, "ulimits"), s, v)
		json_array_append_new(ul, json_pack("{s:s, s:O, s:O}", "Name", s, "Soft",
						    json_object_get(v, "soft"), "Hard",
						    json_object_get(v, "hard")));
	json_t *lg = json_object_get(svc, "logging");
	if (lg)
		json_object_set_new(
			hc, "LogConfig",
			json_pack("{s:s, s:O}", "Type",
				  json_string_value(json_object_get(lg, "driver")) ?: "", "Config",
				  json_object_get(lg, "options") ?: json_object()));
	json_object_set_new(cfg, "HostConfig", hc);
	json_object_set_new(cfg, "NetworkingConfig", nc);
	(void)cname;
	*ret = cfg;
	return 0;
bad:
	err_printf("service %s: %s\n", name, err ? err : "invalid configuration");
	free(err);
	json_decref(cfg);
	json_decref(hc);
	return -1;
}

/* Create (not start) container number of service; its id in *ret_id. */
static int create_one(struct cx *x, const char *name, const json_t *svc, int number, bool oneoff,
		      const char *cname, char **ret_id)
{
	json_t *body;
	struct cli_response r;
	struct sbuf t = SBUF_INIT;

	if (build_create(x, name, svc, number, oneoff, cname, &body) < 0)
		return -1;
	sbuf_adds(&t, "/containers/create?name=");
	url_escape(&t, cname);
	int rc = cli_call(x->c, "POST", sbuf_str(&t), body, &r);
	sbuf_release(&t);
	json_decref(body);
	if (rc < 0 && x->c->err_status == 404 && !json_object_get(svc, "build")) {
		/* the image is missing: pull it, as compose does, and try again */
		char *owned;
		const char *img = service_image(x, name, svc, &owned);
		struct sbuf pt = SBUF_INIT;
		sbuf_adds(&pt, "/images/create?fromImage=");
		url_escape(&pt, img);
		if (!strchr(img, ':') && !strchr(img, '@'))
			sbuf_adds(&pt, "&tag=latest");
		progress("Image", img, "Pulling");
		int pr = api(x, "POST", NULL, "%s", sbuf_str(&pt));
		sbuf_release(&pt);
		free(owned);
		if (pr == 0)
			return create_one(x, name, svc, number, oneoff, cname, ret_id);
		return -1;
	}
	if (rc < 0 && x->c->err_status == 404 && json_object_get(svc, "build")) {
		/* up --no-build, or an image removed since: not built here */
		char *owned;
		const char *img = service_image(x, name, svc, &owned);
		cli_errorf(x->c,
			   "service %s: image %s not found (it is built by up without --no-build, "
			   "or by build)",
			   name, img);
		free(owned);
		return -1;
	}
	if (rc < 0)
		return -1;
	*ret_id = xstrdup(json_string_value(json_object_get(r.json, "Id")));
	cli_response_release(&r);
	return 0;
}

/* ---- build ------------------------------------------------------------------------------------ */

struct build_opts {
	bool no_cache, pull, quiet;
	const struct flag_value *args; /* --build-arg, over the file's */
};

/*
 * Build a service's image (the build key) with POST /build, tagged with its image name (image:,
 * else <project>-<service> as docker compose v2 names it).  The new image's id in *ret_id.
 * 0, or the exit code with the error printed.
 */
static int build_service(struct cx *x, const char *name, const json_t *svc,
			 const struct build_opts *bo, char **ret_id)
{
	const json_t *b = json_object_get(svc, "build");
	const char *ctx = json_string_value(json_object_get(b, "context"));
	const char *df = json_string_value(json_object_get(b, "dockerfile"));
	const char *s;
	json_t *v;
	char *owned, *la_err = NULL;
	const char *img = service_image(x, name, svc, &owned);
	_cleanup_free_ char *df_path = NULL, *dockerfile = NULL;
	_cleanup_close_ int tar = -EBADF;
	off_t size = 0;
	int code;

	*ret_id = NULL;
	if (la_load(&la_err) < 0) {
		err_printf("%s\n", la_err);
		free(la_err);
		free(owned);
		return 1;
	}
	if (df)
		df_path = df[0] == '/' ? xstrdup(df) : xasprintf("%s/%s", ctx, df);
	progress("Service", name, "Building");
	if (build_context_dir(ctx, df_path, &tar, &size, &dockerfile) < 0) {
		err_printf("service %s: the build context could not be sent\n", name);
		free(owned);
		return 1;
	}
	json_t *args = json_deep_copy(json_object_get(b, "args") ?: json_object());
	for (size_t i = 0; bo->args && i < bo->args->n; i++) {
		const char *eq = strchr(bo->args->v[i], '=');
		if (eq) {
			char *k = xstrndup(bo->args->v[i], (size_t)(eq - bo->args->v[i]));
			json_object_set_new(args, k, json_string(eq + 1));
			free(k);
		} else {
			const char *e = getenv(bo->args->v[i]);
			json_object_set_new(args, bo->args->v[i], e ? json_string(e) : json_null());
		}
	}
	char *argtext = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
	char *labtext = json_dumps(json_object_get(b, "labels") ?: json_object(),
				   JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(args);
	struct sbuf t = SBUF_INIT;
	sbuf_adds(&t, "/build?buildargs=");
	url_escape(&t, argtext ?: "{}");
	sbuf_adds(&t, "&dockerfile=");
	url_escape(&t, dockerfile);
	sbuf_adds(&t, "&forcerm=1&labels=");
	url_escape(&t, labtext ?: "{}");
	free(argtext);
	free(labtext);
	if ((s = json_string_value(json_object_get(b, "network")))) {
		sbuf_adds(&t, "&networkmode=");
		url_escape(&t, s);
	}
	if (bo->no_cache || json_is_true(json_object_get(b, "no_cache")))
		sbuf_adds(&t, "&nocache=1");
	if (bo->pull || json_is_true(json_object_get(b, "pull")))
		sbuf_adds(&t, "&pull=1");
	sbuf_adds(&t, "&rm=1");
	if ((v = json_object_get(b, "shm_size")))
		sbuf_printf(&t, "&shmsize=%lld", (long long)json_integer_value(v));
	sbuf_adds(&t, "&t=");
	url_escape(&t, img);
	if ((s = json_string_value(json_object_get(b, "target")))) {
		sbuf_adds(&t, "&target=");
		url_escape(&t, s);
	}
	sbuf_adds(&t, "&version=1");
	code = build_post(x->c, sbuf_str(&t), tar, bo->quiet ? BUILD_OUT_SILENT : BUILD_OUT_STREAM,
			  ret_id);
	sbuf_release(&t);
	if (code)
		err_printf("service %s: failed to build image %s\n", name, img);
	else
		progress("Service", name, "Built");
	free(owned);
	return code;
}

/* Is the service's image in the daemon's store?  1 yes, 0 no, -1 with c->err. */
static int image_present(struct cx *x, const char *name, const json_t *svc)
{
	char *owned;
	const char *img = service_image(x, name, svc, &owned);
	struct sbuf t = SBUF_INIT;
	struct cli_response r;

	sbuf_adds(&t, "/images/");
	url_path_escape(&t, img);
	sbuf_adds(&t, "/json");
	int rc = cli_call(x->c, "GET", sbuf_str(&t), NULL, &r);
	sbuf_release(&t);
	free(owned);
	if (rc == 0) {
		cli_response_release(&r);
		return 1;
	}
	if (x->c->err_status == 404) {
		free(x->c->err);
		x->c->err = NULL;
		return 0;
	}
	return -1;
}

static int fail_c(struct cx *x);

/*
 * Build the selected services that have a build key: all of them (always), or those whose image
 * is missing.  The new image ids in built (service -> id).  0, or the exit code.
 */
static int build_selected(struct cx *x, const json_t *sel, const struct build_opts *bo, bool always,
			  json_t *built)
{
	char **order = NULL;
	json_t *model = json_pack("{s:O}", "services", (json_t *)sel);
	int code = 0;

	order = compose_order(model);
	json_decref(model);
	for (size_t i = 0; order[i] && !code; i++) {
		const json_t *svc = json_object_get(sel, order[i]);
		char *id = NULL;
		if (!json_object_get(svc, "build"))
			continue;
		if (!always) {
			int p = image_present(x, order[i], svc);
			if (p < 0) {
				code = fail_c(x);
				break;
			}
			if (p)
				continue;
		}
		code = build_service(x, order[i], svc, bo, &id);
		if (!code && id && built)
			json_object_set_new(built, order[i], json_string(id));
		free(id);
	}
	berth_strv_free(order);
	return code;
}

/* ---- up --------------------------------------------------------------------------------------- */

struct up_opts {
	bool force_recreate, no_recreate, no_deps, remove_orphans, no_start, wait;
	json_t *scale; /* service -> n */
	json_t *built; /* service -> the image id built by this up */
	int64_t timeout;
};

static int desired_replicas(const json_t *svc, const struct up_opts *o, const char *name)
{
	json_t *s = o ? json_object_get(o->scale, name) : NULL;

	if (s)
		return (int)json_integer_value(s);
	json_t *r = json_object_get(json_object_get(svc, "deploy"), "replicas");
	if (r)
		return (int)json_integer_value(r);
	r = json_object_get(svc, "scale");
	return r ? (int)json_integer_value(r) : 1;
}

static int stop_remove(struct cx *x, const json_t *ctr, int64_t timeout, bool announce)
{
	const char *id = ctr_id(ctr);
	if (ctr_running(ctr)) {
		if (announce)
			progress("Container", ctr_name(ctr), "Stopping");
		if (api(x, "POST", NULL, "/containers/%s/stop?t=%lld", id, (long long)timeout) <
			    0 &&
		    x->c->err_status != 304)
			return -1;
	}
	if (api(x, "DELETE", NULL, "/containers/%s?v=1&force=1", id) < 0)
		return -1;
	if (announce)
		progress("Container", ctr_name(ctr), "Removed");
	return 0;
}

/* Inspect a container: its State (new reference) or NULL. */
static json_t *ctr_state(struct cx *x, const char *id)
{
	char t[128];

	snprintf(t, sizeof(t), "/containers/%s/json", id);
	json_t *j = api_json(x, t);
	json_t *st = json_incref(json_object_get(j, "State"));
	json_decref(j);
	return st;
}

/* Wait for dep's containers to meet cond.  0, or -1 with c->err. */
static int wait_condition(struct cx *x, const char *dep, const char *cond)
{
	json_t *list = project_containers(x, dep, false);
	size_t i;
	json_t *ctr;
	int r = 0;

	if (!list)
		return -1;
	json_array_foreach (list, i, ctr) {
		const char *id = ctr_id(ctr);
		for (int tries = 0;; tries++) {
			json_t *st = ctr_state(x, id);
			if (!st) {
				r = -1;
				break;
			}
			const char *status = json_string_value(json_object_get(st, "Status"));
			json_t *health = json_object_get(st, "Health");
			const char *hs = json_string_value(json_object_get(health, "Status"));
			int code = (int)json_integer_value(json_object_get(st, "ExitCode"));
			bool running = json_is_true(json_object_get(st, "Running"));
			bool done = false;
			if (!strcmp(cond, "service_started")) {
				done = true;
			} else if (!strcmp(cond, "service_healthy")) {
				if (!health) {
					cli_errorf(x->c,
						   "container %s has no healthcheck configured",
						   ctr_name(ctr));
					r = -1;
				} else if (hs && !strcmp(hs, "healthy")) {
					progress("Container", ctr_name(ctr), "Healthy");
					done = true;
				} else if ((hs && !strcmp(hs, "unhealthy")) ||
					   (!running && status && strcmp(status, "created"))) {
					cli_errorf(x->c,
						   "dependency failed to start: container %s "
						   "is unhealthy",
						   ctr_name(ctr));
					r = -1;
				}
			} else { /* service_completed_successfully */
				if (status && !strcmp(status, "exited")) {
					if (code != 0) {
						cli_errorf(x->c,
							   "service \"%s\" didn't complete "
							   "successfully: exit %d",
							   dep, code);
						r = -1;
					} else {
						progress("Container", ctr_name(ctr), "Exited");
						done = true;
					}
				}
			}
			json_decref(st);
			if (done || r < 0)
				break;
			struct timespec ts = {0, 100 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		if (r < 0)
			break;
	}
	json_decref(list);
	return r;
}

static int start_ctr(struct cx *x, const char *id, const char *cname)
{
	progress("Container", cname, "Starting");
	if (api(x, "POST", NULL, "/containers/%s/start", id) < 0 && x->c->err_status != 304)
		return -1;
	progress("Container", cname, "Started");
	return 0;
}

/* Converge one service: recreate what changed, scale, start. */
static int up_service(struct cx *x, const char *name, const json_t *svc, const struct up_opts *o,
		      struct made *m, bool *ret_recreated)
{
	int n = desired_replicas(svc, o, name);
	json_t *have = project_containers(x, name, false);
	char *hash = compose_config_hash(svc);
	const char *fixed = json_string_value(json_object_get(svc, "container_name"));
	size_t i;
	json_t *ctr;
	int r = 0;

	if (!have) {
		free(hash);
		return -2;
	}
	if (fixed && n > 1) {
		cli_errorf(x->c,
			   "services.%s: can't set container_name and %s as container name "
			   "must be unique",
			   name, name);
		r = -1;
		goto out;
	}
	/* too many: the highest numbers go first */
	for (i = json_array_size(have); i-- > 0;) {
		ctr = json_array_get(have, i);
		if ((int)i >= n) {
			if (stop_remove(x, ctr, o->timeout, true) < 0) {
				r = -1;
				goto out;
			}
			json_array_remove(have, i);
		}
	}
	/* the ones kept: recreated when their configuration changed */
	bool used[4096] = {false};
	json_array_foreach (have, i, ctr) {
		int num = ctr_number(ctr);
		const char *h = label(ctr, "config-hash");
		const char *built = json_string_value(json_object_get(o->built, name));
		const char *image_id = json_string_value(json_object_get(ctr, "ImageID"));
		/* a new image built for the service recreates it, as a changed config does */
		bool changed = !h || strcmp(h, hash) != 0 ||
			       (built && image_id && strcmp(built, image_id) != 0);
		if (num > 0 && num < (int)ARRAY_SIZE(used))
			used[num] = true;
		if (o->force_recreate || (changed && !o->no_recreate)) {
			char *cname = xstrdup(ctr_name(ctr)), *id = NULL;
			progress("Container", cname, "Recreate");
			if (stop_remove(x, ctr, o->timeout, false) < 0 ||
			    create_one(x, name, svc, num, false, cname, &id) < 0) {
				free(cname);
				r = -1;
				goto out;
			}
			progress("Container", cname, "Recreated");
			*ret_recreated = true;
			if (!o->no_start)
				r = start_ctr(x, id, cname);
			free(id);
			free(cname);
		} else if (!ctr_running(ctr) && !o->no_start) {
			r = start_ctr(x, ctr_id(ctr), ctr_name(ctr));
		} else {
			progress("Container", ctr_name(ctr), "Running");
		}
		if (r < 0)
			goto out;
	}
	/* too few: the lowest free numbers */
	for (int k = (int)json_array_size(have), num = 1; k < n; k++) {
		while (num < (int)ARRAY_SIZE(used) && used[num])
			num++;
		if (num >= (int)ARRAY_SIZE(used)) {
			cli_errorf(x->c, "too many replicas");
			r = -1;
			goto out;
		}
		used[num] = true;
		char *cname = fixed ? xstrdup(fixed) : xasprintf("%s-%s-%d", x->p.name, name, num);
		char *id = NULL;
		progress("Container", cname, "Creating");
		if (create_one(x, name, svc, num, false, cname, &id) < 0) {
			free(cname);
			r = -1;
			goto out;
		}
		berth_strv_push(&m->containers, id);
		progress("Container", cname, "Created");
		if (!o->no_start)
			r = start_ctr(x, id, cname);
		free(id);
		free(cname);
		if (r < 0)
			goto out;
	}
out:
	if (r < 0 && x->c->err && !berth_str_has_prefix(x->c->err, "service ")) {
		char *e = xasprintf("service %s: %s", name, x->c->err);
		free(x->c->err);
		x->c->err = e;
	}
	free(hash);
	json_decref(have);
	return r;
}

/* The services selected (names given, plus what they depend on unless no_deps); all if none. */
static json_t *select_services(struct cx *x, int argc, char **argv, bool no_deps, int *code)
{
	json_t *services = json_object_get(x->p.model, "services");
	json_t *sel = json_object();

	*code = 0;
	if (argc == 0) {
		json_object_update(sel, services);
		return sel;
	}
	json_t *todo = json_array();
	for (int i = 0; i < argc; i++) {
		if (!json_object_get(services, argv[i])) {
			err_printf("no such service: %s\n", argv[i]);
			json_decref(todo);
			json_decref(sel);
			*code = 1;
			return NULL;
		}
		json_array_append_new(todo, json_string(argv[i]));
	}
	while (json_array_size(todo)) {
		const char *n = json_string_value(json_array_get(todo, 0));
		json_t *svc = json_object_get(services, n);
		if (!json_object_get(sel, n)) {
			json_object_set(sel, n, svc);
			const char *d;
			json_t *dv;
			if (!no_deps)
				json_object_foreach (json_object_get(svc, "depends_on"), d, dv)
					if (json_object_get(services, d))
						json_array_append_new(todo, json_string(d));
		}
		json_array_remove(todo, 0);
	}
	json_decref(todo);
	return sel;
}

static int remove_orphans(struct cx *x, int64_t timeout)
{
	json_t *all = project_containers(x, NULL, false);
	json_t *services = json_object_get(x->p.model, "services");
	size_t i;
	json_t *ctr;

	if (!all)
		return -1;
	json_array_foreach (all, i, ctr)
		if (!json_object_get(services, label(ctr, "service") ?: ""))
			if (stop_remove(x, ctr, timeout, true) < 0) {
				json_decref(all);
				return -1;
			}
	json_decref(all);
	return 0;
}

/* One service's part of up, on a connection of its own when levels run in parallel. */
struct up_job {
	struct cli c;
	struct cx x;
	const char *name;
	json_t *svc, *sel;
	const struct up_opts *o;
	const json_t *recreated_set; /* services recreated in earlier levels */
	struct made m;
	int r;
	bool threaded, recreated;
	pthread_t t;
};

static void *up_job_run(void *arg)
{
	struct up_job *j = arg;
	const char *d;
	json_t *dv;

	j->r = 0;
	if (!j->o->no_start)
		json_object_foreach (json_object_get(j->svc, "depends_on"), d, dv) {
			if (!json_object_get(j->sel, d))
				continue;
			j->r = wait_condition(&j->x, d,
					      json_string_value(json_object_get(dv, "condition")));
			if (j->r < 0)
				return NULL;
		}
	j->r = up_service(&j->x, j->name, j->svc, j->o, &j->m, &j->recreated);
	if (j->r < 0 || j->recreated || j->o->no_start)
		return NULL;
	/* a dependency recreated in this run restarts the dependants that ask for it */
	bool restart = false;
	json_object_foreach (json_object_get(j->svc, "depends_on"), d, dv)
		if (json_is_true(json_object_get(dv, "restart")) &&
		    json_object_get(j->recreated_set, d))
			restart = true;
	if (!restart)
		return NULL;
	json_t *list = project_containers(&j->x, j->name, false);
	size_t i;
	json_t *ctr;
	json_array_foreach (list, i, ctr) {
		progress("Container", ctr_name(ctr), "Restarting");
		if (api(&j->x, "POST", NULL, "/containers/%s/restart?t=%lld", ctr_id(ctr),
			(long long)j->o->timeout) < 0) {
			j->r = -1;
			break;
		}
		progress("Container", ctr_name(ctr), "Started");
	}
	json_decref(list);
	return NULL;
}

static int converge(struct cx *x, json_t *sel, const struct up_opts *o, struct made *m)
{
	json_t *model = json_pack("{s:O}", "services", sel);
	char **order = compose_order(model);
	const char *k;
	json_t *v;
	int r = 0;

	json_decref(model);
	/* networks and volumes the selected services use */
	json_t *nets = json_object(), *vols = json_object();
	json_object_foreach (sel, k, v) {
		const char *nk;
		json_t *nv;
		size_t i;
		json_object_foreach (json_object_get(v, "networks"), nk, nv)
			json_object_set_new(nets, nk, json_true());
		json_array_foreach (json_object_get(v, "volumes"), i, nv) {
			const char *src = json_string_value(json_object_get(nv, "source"));
			if (berth_streq(json_string_value(json_object_get(nv, "type")), "volume") &&
			    src && *src)
				json_object_set_new(vols, src, json_true());
		}
	}
	json_object_foreach (nets, k, v)
		if ((r = ensure_network(x, k, m)) < 0)
			goto out;
	json_object_foreach (vols, k, v)
		if ((r = ensure_volume(x, k, m)) < 0)
			goto out;
	/* level by level in depends_on order; the services of a level in parallel */
	json_t *done = json_object(), *recreated = json_object();
	while (r == 0 && json_object_size(done) < json_object_size(sel)) {
		struct up_job *jobs = xcalloc(json_object_size(sel), sizeof(*jobs));
		size_t n = 0;
		for (size_t i = 0; order[i]; i++) {
			json_t *svc = json_object_get(sel, order[i]);
			const char *d;
			json_t *dv;
			bool ready = !json_object_get(done, order[i]);
			json_object_foreach (json_object_get(svc, "depends_on"), d, dv)
				if (json_object_get(sel, d) && !json_object_get(done, d))
					ready = false;
			if (!ready)
				continue;
			jobs[n].name = order[i];
			jobs[n].svc = svc;
			jobs[n].sel = sel;
			jobs[n].o = o;
			jobs[n].recreated_set = recreated;
			n++;
		}
		if (n == 0) {
			free(jobs);
			break; /* a cycle: refused at load */
		}
		if (n == 1) {
			jobs[0].x = *x;
			up_job_run(&jobs[0]);
		} else {
			cli_api_version(x->c); /* resolved once, before the copies */
			for (size_t i = 0; i < n; i++) {
				jobs[i].c = *x->c;
				jobs[i].c.http = NULL;
				jobs[i].c.err = NULL;
				jobs[i].x = *x;
				jobs[i].x.c = &jobs[i].c;
				jobs[i].threaded =
					pthread_create(&jobs[i].t, NULL, up_job_run, &jobs[i]) == 0;
				if (!jobs[i].threaded)
					up_job_run(&jobs[i]);
			}
		}
		for (size_t i = 0; i < n; i++) {
			if (jobs[i].threaded)
				pthread_join(jobs[i].t, NULL);
			for (char **c = jobs[i].m.containers; c && *c; c++)
				berth_strv_push(&m->containers, *c);
			made_release(&jobs[i].m);
			if (jobs[i].r < 0 && r == 0) {
				r = -1;
				if (jobs[i].x.c != x->c) {
					free(x->c->err);
					x->c->err = jobs[i].c.err ? xstrdup(jobs[i].c.err) : NULL;
				}
			}
			if (jobs[i].x.c != x->c) {
				berth_http_client_free(jobs[i].c.http);
				free(jobs[i].c.err);
			}
			json_object_set_new(done, jobs[i].name, json_true());
			if (jobs[i].recreated)
				json_object_set_new(recreated, jobs[i].name, json_true());
		}
		free(jobs);
	}
	json_decref(done);
	json_decref(recreated);
	if (r < 0)
		goto out;
	if (o->remove_orphans)
		r = remove_orphans(x, o->timeout);
out:
	json_decref(nets);
	json_decref(vols);
	berth_strv_free(order);
	return r;
}

/* ---- following logs ------------------------------------------------------------------------------ */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct follower {
	struct cli c; /* a connection of its own */
	char *id, *name;
	int width, color;
	bool follow, timestamps, tty;
	const char *tail;
	pthread_t thread;
	bool done;
	int *done_count;
	pthread_cond_t *cond;
};

static void emit(struct follower *f, int fd, struct sbuf *pending, const char *data, size_t n)
{
	sbuf_add(pending, data, n);
	for (;;) {
		const char *nl = memchr(pending->p, '\n', pending->len);
		if (!nl)
			break;
		size_t line = (size_t)(nl - pending->p) + 1;
		struct sbuf o = SBUF_INIT;
		if (f->color)
			sbuf_printf(&o, "\033[%dm%-*s | \033[0m", f->color, f->width + 1, f->name);
		else
			sbuf_printf(&o, "%-*s | ", f->width + 1, f->name);
		sbuf_add(&o, pending->p, line);
		pthread_mutex_lock(&out_lock);
		berth_write_all(fd, o.p, o.len);
		pthread_mutex_unlock(&out_lock);
		sbuf_release(&o);
		memmove(pending->p, pending->p + line, pending->len - line);
		pending->len -= line;
		pending->p[pending->len] = '\0';
	}
}

static void *follow_thread(void *arg)
{
	struct follower *f = arg;
	struct sbuf t = SBUF_INIT, out = SBUF_INIT, errb = SBUF_INIT;
	char buf[65536];

	sbuf_printf(&t, "/containers/%s/logs?stdout=1&stderr=1&follow=%d&timestamps=%d&tail=%s",
		    f->id, f->follow, f->timestamps, f->tail ? f->tail : "all");
	if (cli_call_stream(&f->c, "GET", sbuf_str(&t), NULL) == 0) {
		uint8_t hdr[8];
		for (;;) {
			if (f->tty) {
				ssize_t n = cli_stream_read(&f->c, buf, sizeof(buf));
				if (n <= 0)
					break;
				emit(f, STDOUT_FILENO, &out, buf, (size_t)n);
				continue;
			}
			size_t have = 0;
			while (have < 8) {
				ssize_t n = cli_stream_read(&f->c, hdr + have, 8 - have);
				if (n <= 0)
					goto end;
				have += (size_t)n;
			}
			uint32_t len = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 |
				       (uint32_t)hdr[6] << 8 | hdr[7];
			while (len) {
				ssize_t n = cli_stream_read(&f->c, buf,
							    len < sizeof(buf) ? len : sizeof(buf));
				if (n <= 0)
					goto end;
				if (hdr[0] == 2)
					emit(f, STDERR_FILENO, &errb, buf, (size_t)n);
				else
					emit(f, STDOUT_FILENO, &out, buf, (size_t)n);
				len -= (uint32_t)n;
			}
		}
	}
end:
	if (out.len)
		emit(f, STDOUT_FILENO, &out, "\n", 1);
	if (errb.len)
		emit(f, STDERR_FILENO, &errb, "\n", 1);
	sbuf_release(&t);
	sbuf_release(&out);
	sbuf_release(&errb);
	pthread_mutex_lock(&out_lock);
	f->done = true;
	(*f->done_count)++;
	pthread_cond_broadcast(f->cond);
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

struct follow_set {
	struct follower *v;
	size_t n;
	int done;
	pthread_cond_t cond;
};

static void follow_start(struct cx *x, struct follow_set *s, json_t *ctrs, bool follow,
			 bool timestamps, const char *tail, bool prefix)
{
	size_t i;
	json_t *ctr;
	int width = 0;
	static const int colors[] = {36, 33, 32, 35, 34, 96, 93, 92, 95, 94};
	bool color = prefix && is_terminal(STDOUT_FILENO);

	cli_api_version(x->c); /* resolved once, before the copies */
	pthread_cond_init(&s->cond, NULL);
	s->n = json_array_size(ctrs);
	s->v = xcalloc(s->n + 1, sizeof(*s->v));
	json_array_foreach (ctrs, i, ctr)
		if ((int)strlen(ctr_name(ctr)) > width)
			width = (int)strlen(ctr_name(ctr));
	json_array_foreach (ctrs, i, ctr) {
		struct follower *f = &s->v[i];
		f->c = *x->c;
		f->c.http = NULL;
		f->c.err = NULL;
		f->id = xstrdup(ctr_id(ctr));
		f->name = xstrdup(prefix ? ctr_name(ctr) : "");
		f->width = prefix ? width : -1;
		f->color = color ? colors[i % ARRAY_SIZE(colors)] : 0;
		f->follow = follow;
		f->timestamps = timestamps;
		f->tail = tail;
		f->done_count = &s->done;
		f->cond = &s->cond;
		json_t *st = ctr_state(x, f->id);
		(void)st;
		json_decref(st);
		char t[128];
		snprintf(t, sizeof(t), "/containers/%s/json", f->id);
		json_t *j = api_json(x, t);
		f->tty = json_is_true(json_object_get(json_object_get(j, "Config"), "Tty"));
		json_decref(j);
	}
	out_flush();
	for (i = 0; i < s->n; i++)
		pthread_create(&s->v[i].thread, NULL, follow_thread, &s->v[i]);
}

static void follow_end(struct follow_set *s, bool cancel)
{
	for (size_t i = 0; i < s->n; i++) {
		if (cancel && !s->v[i].done)
			pthread_cancel(s->v[i].thread);
		pthread_join(s->v[i].thread, NULL);
		free(s->v[i].id);
		free(s->v[i].name);
		if (!cancel)
			berth_http_client_free(s->v[i].c.http);
		free(s->v[i].c.err);
	}
	free(s->v);
	pthread_cond_destroy(&s->cond);
}

/* ---- the commands ------------------------------------------------------------------------------ */

static int fail_c(struct cx *x)
{
	out_flush();
	if (x->c->err)
		err_printf("%s\n", x->c->err);
	return 1;
}

static int scale_flags(struct cx *x, const struct flag_value *v, json_t *scale)
{
	for (size_t i = 0; i < v->n; i++) {
		const char *eq = strchr(v->v[i], '=');
		int64_t n;
		if (!eq || berth_parse_int64(eq + 1, 0, 4000, &n) < 0) {
			err_printf("invalid --scale value \"%s\": want SERVICE=NUM\n", v->v[i]);
			return -1;
		}
		char *svc = xstrndup(v->v[i], (size_t)(eq - v->v[i]));
		if (!json_object_get(json_object_get(x->p.model, "services"), svc)) {
			err_printf("no such service: %s\n", svc);
			free(svc);
			return -1;
		}
		json_object_set_new(scale, svc, json_integer(n));
		free(svc);
	}
	return 0;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static int stop_all(struct cx *x, json_t *sel, int64_t timeout)
{
	const char *k;
	json_t *v;

	json_object_foreach (sel, k, v) {
		json_t *list = project_containers(x, k, false);
		size_t i;
		json_t *ctr;
		json_array_foreach (list, i, ctr)
			if (ctr_running(ctr)) {
				progress("Container", ctr_name(ctr), "Stopping");
				api(x, "POST", NULL, "/containers/%s/stop?t=%lld", ctr_id(ctr),
				    (long long)timeout);
				progress("Container", ctr_name(ctr), "Stopped");
			}
		json_decref(list);
	}
	return 0;
}

static int cc_up(struct cx *x, struct cli_args *a)
{
	struct up_opts o = {
		.force_recreate = flag_bool(a, "force-recreate"),
		.no_recreate = flag_bool(a, "no-recreate"),
		.no_deps = flag_bool(a, "no-deps"),
		.remove_orphans = flag_bool(a, "remove-orphans"),
		.no_start = flag_bool(a, "no-start"),
		.wait = flag_bool(a, "wait"),
		.scale = json_object(),
		.built = json_object(),
		.timeout = flag_set(a, "timeout") ? flag_get(a, "timeout")->i : 10,
	};
	bool no_build = flag_bool(a, "no-build");
	bool detach = flag_bool(a, "detach") || o.wait;
	bool abort_exit = flag_bool(a, "abort-on-container-exit");
	struct made m = {0};
	int code;
	int r;

	if (flag_bool(a, "build") && no_build) {
		err_printf("--build and --no-build are incompatible\n");
		json_decref(o.scale);
		json_decref(o.built);
		return 1;
	}
	if (o.force_recreate && o.no_recreate) {
		err_printf("--force-recreate and --no-recreate are incompatible\n");
		json_decref(o.scale);
		return 1;
	}
	if (detach && abort_exit) {
		err_printf("--abort-on-container-exit and --detach are incompatible\n");
		json_decref(o.scale);
		return 1;
	}
	if (scale_flags(x, flag_get(a, "scale"), o.scale) < 0) {
		json_decref(o.scale);
		return 1;
	}
	json_t *sel = select_services(x, a->argc, a->argv, o.no_deps, &code);
	if (!sel) {
		json_decref(o.scale);
		return code;
	}
	const char *k;
	json_t *v;
	if (!no_build) {
		struct build_opts bo = {0};
		code = build_selected(x, sel, &bo, flag_bool(a, "build"), o.built);
		if (code)
			goto out;
	}
	r = converge(x, sel, &o, &m);
	if (r < 0) {
		code = fail_c(x);
		made_undo(x, &m);
		goto out;
	}
	code = 0;
	if (o.wait) {
		json_object_foreach (sel, k, v) {
			bool healthcheck =
				json_object_get(v, "healthcheck") &&
				!berth_streq(
					json_string_value(json_array_get(
						json_object_get(json_object_get(v, "healthcheck"),
								"test"),
						0)),
					"NONE");
			if (wait_condition(x, k,
					   healthcheck ? "service_healthy" : "service_started") <
			    0) {
				code = fail_c(x);
				goto out;
			}
		}
	}
	if (detach || o.no_start)
		goto out;
	/* foreground: every container's output, prefixed, until they end or a signal */
	json_t *ctrs = json_array();
	json_object_foreach (sel, k, v) {
		json_t *l = project_containers(x, k, false);
		json_array_extend(ctrs, l);
		json_decref(l);
	}
	struct follow_set s = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	follow_start(x, &s, ctrs, true, false, "all", true);
	pthread_mutex_lock(&out_lock);
	while (!got_signal && (size_t)s.done < s.n && !(abort_exit && s.done > 0)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s.cond, &out_lock, &ts);
	}
	pthread_mutex_unlock(&out_lock);
	/* the exit code: that of the container that ended first (abort), else 0 */
	for (size_t i = 0; abort_exit && i < s.n; i++)
		if (s.v[i].done) {
			json_t *st = ctr_state(x, s.v[i].id);
			code = (int)json_integer_value(json_object_get(st, "ExitCode"));
			json_decref(st);
			err_printf("%s exited with code %d\n", s.v[i].name, code);
			break;
		}
	if (got_signal)
		err_printf("Gracefully stopping... (press Ctrl+C again to force)\n");
	if (got_signal || abort_exit) {
		signal(SIGINT, SIG_DFL);
		stop_all(x, sel, o.timeout);
	}
	follow_end(&s, false);
	json_decref(ctrs);
	if (got_signal)
		code = 130;
out:
	made_release(&m);
	json_decref(sel);
	json_decref(o.scale);
	json_decref(o.built);
	return code;
}

static int cc_down(struct cx *x, struct cli_args *a)
{
	int64_t timeout = flag_set(a, "timeout") ? flag_get(a, "timeout")->i : 10;
	const char *rmi = flag_str(a, "rmi");
	json_t *all = project_containers(x, NULL, true);
	json_t *services = json_object_get(x->p.model, "services");
	char **order = compose_order(x->p.model);
	size_t i;
	json_t *ctr;
	int code = 0;

	if (rmi && strcmp(rmi, "local") && strcmp(rmi, "all")) {
		err_printf("invalid --rmi option \"%s\": must be local or all\n", rmi);
		berth_strv_free(order);
		json_decref(all);
		return 1;
	}
	if (!all) {
		berth_strv_free(order);
		return 1;
	}
	/* dependants first: the reverse of up's order; then orphans (when asked) */
	size_t n = berth_strv_length(order);
	for (size_t k = n; k-- > 0;)
		json_array_foreach (all, i, ctr)
			if (berth_streq(label(ctr, "service"), order[k]) &&
			    stop_remove(x, ctr, timeout, true) < 0)
				code = fail_c(x);
	json_array_foreach (all, i, ctr) {
		const char *svc = label(ctr, "service");
		bool orphan = !json_object_get(services, svc ?: "");
		bool oneoff = berth_streq(label(ctr, "oneoff"), "True");
		if ((orphan && flag_bool(a, "remove-orphans")) || (oneoff && !orphan))
			if (stop_remove(x, ctr, timeout, true) < 0)
				code = fail_c(x);
	}
	/* the project's networks (those it declares, not external) */
	const char *k;
	json_t *v;
	json_t *nets = json_object();
	json_object_foreach (services, k, v) {
		const char *nk;
		json_t *nv;
		json_object_foreach (json_object_get(v, "networks"), nk, nv)
			json_object_set_new(nets, nk, json_true());
	}
	json_object_foreach (json_object_get(x->p.model, "networks"), k, v)
		json_object_set_new(nets, k, json_true());
	json_object_foreach (nets, k, v) {
		json_t *def = json_object_get(json_object_get(x->p.model, "networks"), k);
		if (json_is_true(json_object_get(def, "external")))
			continue;
		char *name = network_name(x, k);
		if (api(x, "DELETE", NULL, "/networks/%s", name) == 0)
			progress("Network", name, "Removed");
		else if (x->c->err_status != 404)
			code = fail_c(x);
		free(name);
	}
	json_decref(nets);
	if (flag_bool(a, "volumes"))
		json_object_foreach (json_object_get(x->p.model, "volumes"), k, v) {
			if (json_is_true(json_object_get(v, "external")))
				continue;
			char *name = volume_name(x, k);
			if (api(x, "DELETE", NULL, "/volumes/%s", name) == 0)
				progress("Volume", name, "Removed");
			else if (x->c->err_status != 404)
				code = fail_c(x);
			free(name);
		}
	if (rmi)
		json_object_foreach (services, k, v) {
			char *owned;
			if (!strcmp(rmi, "local") && json_object_get(v, "image"))
				continue;
			const char *img = service_image(x, k, v, &owned);
			if (api(x, "DELETE", NULL, "/images/%s", img) == 0)
				progress("Image", img, "Removed");
			else if (x->c->err_status != 404)
				code = fail_c(x);
			free(owned);
		}
	berth_strv_free(order);
	json_decref(all);
	return code;
}

/* The containers of the services named (all when none), running only unless all. */
static json_t *targets(struct cx *x, int argc, char **argv, bool all, bool oneoff, int *code)
{
	json_t *services = json_object_get(x->p.model, "services");
	json_t *out = json_array();

	*code = 0;
	for (int i = 0; i < argc; i++)
		if (!json_object_get(services, argv[i])) {
			err_printf("no such service: %s\n", argv[i]);
			json_decref(out);
			*code = 1;
			return NULL;
		}
	json_t *list = project_containers(x, NULL, oneoff);
	if (!list) {
		json_decref(out);
		*code = 1;
		return NULL;
	}
	/* services in the model's order (config order, i.e. by name), numbers ascending */
	char **order = compose_order(x->p.model);
	for (size_t k = 0; order[k]; k++) {
		bool want = argc == 0;
		for (int i = 0; i < argc; i++)
			if (!strcmp(argv[i], order[k]))
				want = true;
		if (!want)
			continue;
		size_t i;
		json_t *ctr;
		json_array_foreach (list, i, ctr)
			if (berth_streq(label(ctr, "service"), order[k]) &&
			    (all || ctr_running(ctr)))
				json_array_append(out, ctr);
	}
	/* containers of services no longer in the model (another file's project) when all are
	 * asked for: ps lists them */
	if (argc == 0) {
		size_t i;
		json_t *ctr;
		json_array_foreach (list, i, ctr)
			if (!json_object_get(services, label(ctr, "service") ?: "") &&
			    (all || ctr_running(ctr)))
				json_array_append(out, ctr);
	}
	berth_strv_free(order);
	json_decref(list);
	return out;
}

static void ports_text(struct sbuf *b, const json_t *ctr)
{
	size_t i;
	json_t *p;

	json_array_foreach (json_object_get(ctr, "Ports"), i, p) {
		const char *ip = json_string_value(json_object_get(p, "IP"));
		json_int_t pub = json_integer_value(json_object_get(p, "PublicPort"));
		json_int_t priv = json_integer_value(json_object_get(p, "PrivatePort"));
		const char *type = json_string_value(json_object_get(p, "Type")) ?: "tcp";
		if (b->len)
			sbuf_adds(b, ", ");
		if (pub)
			sbuf_printf(b, "%s:%lld->%lld/%s", ip && *ip ? ip : "0.0.0.0",
				    (long long)pub, (long long)priv, type);
		else
			sbuf_printf(b, "%lld/%s", (long long)priv, type);
	}
}

static int cc_ps(struct cx *x, struct cli_args *a)
{
	int code;
	json_t *list = targets(x, a->argc, a->argv, flag_bool(a, "all"), true, &code);
	const char *format = flag_str(a, "format");
	size_t i;
	json_t *ctr;

	if (!list)
		return code;
	if (flag_bool(a, "quiet")) {
		json_array_foreach (list, i, ctr)
			out_printf("%s\n", ctr_id(ctr));
		json_decref(list);
		return 0;
	}
	if (!format || !strcmp(format, "table"))
		format = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}"
			 "\t{{.Status}}\t{{.Ports}}";
	struct fmt_list f = {0};
	char *err = NULL;
	if (fmt_list_begin(&f, format, NULL, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		json_decref(list);
		return 1;
	}
	json_array_foreach (list, i, ctr) {
		struct sbuf ports = SBUF_INIT, cmd = SBUF_INIT, since = SBUF_INIT;
		ports_text(&ports, ctr);
		const char *command = json_string_value(json_object_get(ctr, "Command")) ?: "";
		sbuf_printf(&cmd, "\"%s\"", command);
		int64_t created = json_integer_value(json_object_get(ctr, "Created"));
		human_duration(&since, (now_ns() / 1000000000 - created) * 1000000000);
		sbuf_adds(&since, " ago");
		const char *state = json_string_value(json_object_get(ctr, "State")) ?: "";
		const char *status = json_string_value(json_object_get(ctr, "Status")) ?: "";
		const char *health = strstr(status, "(healthy)")	    ? "healthy"
				     : strstr(status, "(unhealthy)")	    ? "unhealthy"
				     : strstr(status, "(health: starting)") ? "starting"
									    : "";
		json_t *values = json_pack(
			"{s:s, s:s, s:[s], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}",
			"ID", ctr_id(ctr), "Name", ctr_name(ctr), "Names", ctr_name(ctr), "Image",
			json_string_value(json_object_get(ctr, "Image")) ?: "", "Command",
			sbuf_str(&cmd), "Project", x->p.name, "Service",
			label(ctr, "service") ?: "", "RunningFor", sbuf_str(&since), "State", state,
			"Status", status, "Health", health, "Ports", sbuf_str(&ports), "CreatedAt",
			"", "Labels", json_object_get(ctr, "Labels") ?: json_object());
		if (!strcmp(format, "json")) {
			json_object_set_new(values, "Names", json_string(ctr_name(ctr)));
			json_object_set_new(values, "Command", json_string(command));
			json_object_set(values, "Publishers",
					json_object_get(ctr, "Ports") ?: json_array());
			char *line = json_dumps(values, JSON_COMPACT | JSON_SORT_KEYS);
			out_printf("%s\n", line);
			free(line);
			json_decref(values);
		} else {
			struct ctx_obj o;
			ctx_obj_init(&o, "formatter.ContainerContext", values);
			int r = fmt_list_row(&f, tval_obj(&o.obj), &err);
			ctx_obj_release(&o);
			if (r < 0) {
				err_printf("%s\n", err);
				free(err);
				sbuf_release(&ports);
				sbuf_release(&cmd);
				sbuf_release(&since);
				fmt_list_release(&f);
				json_decref(list);
				return 1;
			}
		}
		sbuf_release(&ports);
		sbuf_release(&cmd);
		sbuf_release(&since);
	}
	if (strcmp(format, "json")) {
		static const char *const pairs[] = {
			"ID",	   "CONTAINER ID", "Name",    "NAME",	 "Image",      "IMAGE",
			"Command", "COMMAND",	   "Service", "SERVICE", "RunningFor", "CREATED",
			"Status",  "STATUS",	   "Ports",   "PORTS",	 "State",      "STATE",
			"Project", "PROJECT",	   "Health",  "HEALTH",	 NULL,
		};
		struct header_obj h;
		header_init(&h, pairs);
		fmt_list_end(&f, &h.obj);
	}
	fmt_list_release(&f);
	json_decref(list);
	return 0;
}

static int cc_logs(struct cx *x, struct cli_args *a)
{
	int code;
	json_t *list = targets(x, a->argc, a->argv, true, false, &code);
	struct follow_set s = {0};

	if (!list)
		return code;
	follow_start(x, &s, list, flag_bool(a, "follow"), flag_bool(a, "timestamps"),
		     flag_str(a, "tail"), !flag_bool(a, "no-log-prefix"));
	follow_end(&s, false);
	json_decref(list);
	return 0;
}

/* start, stop, restart, kill, rm: one request per container */
static int each(struct cx *x, struct cli_args *a, const char *what)
{
	int code;
	bool all = strcmp(what, "stop") && strcmp(what, "kill") ? true : false;
	json_t *list = targets(x, a->argc, a->argv, all, false, &code);
	size_t i;
	json_t *ctr;

	if (!list)
		return code;
	int64_t timeout = 10;
	if (strcmp(what, "stop") == 0 || strcmp(what, "restart") == 0)
		if (flag_set(a, "timeout"))
			timeout = flag_get(a, "timeout")->i;
	if (!strcmp(what, "rm")) {
		bool any = false;
		json_array_foreach (list, i, ctr)
			if (!ctr_running(ctr) || flag_bool(a, "stop"))
				any = true;
		if (!any) {
			err_printf("No stopped containers\n");
			json_decref(list);
			return 0;
		}
		if (!flag_bool(a, "force")) {
			struct sbuf q = SBUF_INIT;
			sbuf_adds(&q, "Going to remove");
			json_array_foreach (list, i, ctr)
				if (!ctr_running(ctr) || flag_bool(a, "stop"))
					sbuf_printf(&q, " %s", ctr_name(ctr));
			bool ok = confirm(sbuf_str(&q));
			sbuf_release(&q);
			if (!ok) {
				json_decref(list);
				return 0;
			}
		}
	}
	/* start: dependencies first; stop: dependants first */
	size_t n = json_array_size(list);
	for (size_t k = 0; k < n; k++) {
		i = strcmp(what, "stop") == 0 ? n - 1 - k : k;
		ctr = json_array_get(list, i);
		const char *id = ctr_id(ctr), *name = ctr_name(ctr);
		int r = 0;
		if (!strcmp(what, "start")) {
			if (ctr_running(ctr))
				continue;
			r = start_ctr(x, id, name);
		} else if (!strcmp(what, "stop")) {
			progress("Container", name, "Stopping");
			r = api(x, "POST", NULL, "/containers/%s/stop?t=%lld", id,
				(long long)timeout);
			if (r == 0 || x->c->err_status == 304)
				progress("Container", name, "Stopped"), r = 0;
		} else if (!strcmp(what, "restart")) {
			progress("Container", name, "Restarting");
			r = api(x, "POST", NULL, "/containers/%s/restart?t=%lld", id,
				(long long)timeout);
			if (r == 0)
				progress("Container", name, "Started");
		} else if (!strcmp(what, "kill")) {
			const char *sig = flag_str(a, "signal");
			progress("Container", name, "Killing");
			r = api(x, "POST", NULL, "/containers/%s/kill?signal=%s", id,
				sig ? sig : "SIGKILL");
			if (r == 0)
				progress("Container", name, "Killed");
		} else if (!strcmp(what, "rm")) {
			if (ctr_running(ctr) && !flag_bool(a, "stop"))
				continue;
			r = stop_remove(x, ctr, timeout, true);
		}
		if (r < 0) {
			json_decref(list);
			return fail_c(x);
		}
	}
	json_decref(list);
	return 0;
}

static int cc_start(struct cx *x, struct cli_args *a)
{
	return each(x, a, "start");
}
static int cc_stop(struct cx *x, struct cli_args *a)
{
	return each(x, a, "stop");
}
static int cc_restart(struct cx *x, struct cli_args *a)
{
	return each(x, a, "restart");
}
static int cc_kill(struct cx *x, struct cli_args *a)
{
	return each(x, a, "kill");
}
static int cc_rm(struct cx *x, struct cli_args *a)
{
	return each(x, a, "rm");
}

static int cc_config(struct cx *x, struct cli_args *a)
{
	const char *k;
	json_t *v;

	if (flag_bool(a, "services")) {
		char **order = compose_order(x->p.model);
		for (size_t i = 0; order[i]; i++)
			out_printf("%s\n", order[i]);
		berth_strv_free(order);
		return 0;
	}
	if (flag_bool(a, "volumes")) {
		json_object_foreach (json_object_get(x->p.model, "volumes"), k, v)
			out_printf("%s\n", k);
		return 0;
	}
	if (flag_bool(a, "quiet"))
		return 0;
	/* compose's order: name, services, networks, volumes, secrets, configs; empty ones left out */
	json_t *copy = json_object();
	static const char *const sections[] = {"name",	  "services", "networks",
					       "volumes", "secrets",  "configs"};
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		v = json_object_get(x->p.model, sections[i]);
		if (v && !(json_is_object(v) && json_object_size(v) == 0))
			json_object_set(copy, sections[i], v);
	}
	if (!strcmp(flag_str(a, "format") ?: "yaml", "json")) {
		char *s = json_dumps(copy, JSON_INDENT(2));
		out_printf("%s\n", s);
		free(s);
	} else {
		char *s = compose_to_yaml(copy);
		out_puts(s);
		free(s);
	}
	json_decref(copy);
	return 0;
}

static int cc_ls(struct cx *x, struct cli_args *a)
{
	json_t *filters = json_pack("{s:[s]}", "label", LBL "project");
	char *fj = json_dumps(filters, JSON_COMPACT);
	struct sbuf t = SBUF_INIT, f = SBUF_INIT;
	url_escape(&f, fj);
	sbuf_printf(&t, "/containers/json?all=%d&filters=%s", flag_bool(a, "all"), sbuf_str(&f));
	json_t *list = api_json(x, sbuf_str(&t));
	free(fj);
	json_decref(filters);
	sbuf_release(&t);
	sbuf_release(&f);
	if (!list)
		return fail_c(x);
	/* project -> {state -> count}, config files */
	json_t *projects = json_object();
	size_t i;
	json_t *ctr;
	json_array_foreach (list, i, ctr) {
		const char *p = label(ctr, "project");
		json_t *e = json_object_get(projects, p);
		if (!e) {
			e = json_pack("{s:{}, s:s}", "states", "files",
				      label(ctr, "project.config_files") ?: "");
			json_object_set_new(projects, p, e);
		}
		const char *st = json_string_value(json_object_get(ctr, "State")) ?: "unknown";
		json_t *states = json_object_get(e, "states");
		json_object_set_new(
			states, st,
			json_integer(json_integer_value(json_object_get(states, st)) + 1));
	}
	const char *format = flag_str(a, "format");
	bool json_out = format && !strcmp(format, "json");
	bool quiet = flag_bool(a, "quiet");
	struct tbl tw;
	tbl_init(&tw);
	if (!quiet && !json_out)
		tbl_printf(&tw, "NAME\tSTATUS\tCONFIG FILES\n");
	json_t *arr = json_array();
	const char *p;
	json_t *e;
	json_object_foreach (projects, p, e) {
		struct sbuf st = SBUF_INIT;
		const char *s;
		json_t *n;
		json_object_foreach (json_object_get(e, "states"), s, n)
			sbuf_printf(&st, "%s%s(%lld)", st.len ? ", " : "", s,
				    (long long)json_integer_value(n));
		const char *files = json_string_value(json_object_get(e, "files"));
		if (quiet)
			out_printf("%s\n", p);
		else if (json_out)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "Name", p, "Status",
							     sbuf_str(&st), "ConfigFiles", files));
		else
			tbl_printf(&tw, "%s\t%s\t%s\n", p, sbuf_str(&st), files);
		sbuf_release(&st);
	}
	if (json_out) {
		char *s = json_dumps(arr, JSON_COMPACT);
		out_printf("%s\n", s);
		free(s);
	} else if (!quiet) {
		tbl_flush(&tw);
	}
	tbl_release(&tw);
	json_decref(arr);
	json_decref(projects);
	json_decref(list);
	return 0;
}

static int cc_top(struct cx *x, struct cli_args *a)
{
	int code;
	json_t *list = targets(x, a->argc, a->argv, false, false, &code);
	size_t i;
	json_t *ctr;

	if (!list)
		return code;
	json_array_foreach (list, i, ctr) {
		char t[128];
		snprintf(t, sizeof(t), "/containers/%s/top", ctr_id(ctr));
		json_t *top = api_json(x, t);
		if (!top) {
			json_decref(list);
			return fail_c(x);
		}
		out_printf("%s%s\n", i ? "\n" : "", ctr_name(ctr));
		struct tbl tw;
		tbl_init(&tw);
		size_t k;
		json_t *v;
		json_array_foreach (json_object_get(top, "Titles"), k, v)
			tbl_printf(&tw, "%s%s", k ? "\t" : "", json_string_value(v));
		tbl_printf(&tw, "\n");
		json_t *row;
		size_t r;
		json_array_foreach (json_object_get(top, "Processes"), r, row) {
			json_array_foreach (row, k, v)
				tbl_printf(&tw, "%s%s", k ? "\t" : "", json_string_value(v));
			tbl_printf(&tw, "\n");
		}
		tbl_flush(&tw);
		tbl_release(&tw);
		json_decref(top);
	}
	json_decref(list);
	return 0;
}

static int cc_images(struct cx *x, struct cli_args *a)
{
	int code;
	json_t *list = targets(x, a->argc, a->argv, true, false, &code);
	size_t i;
	json_t *ctr;
	bool quiet = flag_bool(a, "quiet");

	if (!list)
		return code;
	struct tbl tw;
	tbl_init(&tw);
	if (!quiet)
		tbl_printf(&tw, "CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE\n");
	json_array_foreach (list, i, ctr) {
		const char *img = json_string_value(json_object_get(ctr, "ImageID")) ?: "";
		struct sbuf t = SBUF_INIT;
		sbuf_adds(&t, "/images/");
		url_path_escape(&t, img);
		sbuf_adds(&t, "/json");
		json_t *ij = api_json(x, sbuf_str(&t));
		sbuf_release(&t);
		const char *id = json_string_value(json_object_get(ij, "Id")) ?: img;
		if (berth_str_has_prefix(id, "sha256:"))
			id += 7;
		if (quiet) {
			out_printf("%s\n", id);
			json_decref(ij);
			continue;
		}
		const char *ref = json_string_value(json_object_get(ctr, "Image")) ?: "";
		char *repo = xstrdup(ref), *tag = NULL;
		char *colon = strrchr(repo, ':');
		if (colon && !strchr(colon, '/')) {
			*colon = '\0';
			tag = colon + 1;
		}
		struct sbuf size = SBUF_INIT;
		human_size(&size, (double)json_integer_value(json_object_get(ij, "Size")), 4);
		tbl_printf(&tw, "%s\t%s\t%s\t%.12s\t%s\n", ctr_name(ctr), repo,
			   tag ? tag : "latest", id, sbuf_str(&size));
		sbuf_release(&size);
		free(repo);
		json_decref(ij);
	}
	tbl_flush(&tw);
	tbl_release(&tw);
	json_decref(list);
	return 0;
}

static int cc_port(struct cx *x, struct cli_args *a)
{
	int code;
	const char *proto = flag_str(a, "protocol") ?: "tcp";
	int64_t index = flag_set(a, "index") ? flag_get(a, "index")->i : 1;
	json_t *list = targets(x, 1, a->argv, false, false, &code);
	size_t i;
	json_t *ctr;

	if (!list)
		return code;
	json_array_foreach (list, i, ctr) {
		if (ctr_number(ctr) != index)
			continue;
		json_t *p;
		size_t k;
		json_array_foreach (json_object_get(ctr, "Ports"), k, p) {
			char want[32];
			snprintf(want, sizeof(want), "%lld",
				 (long long)json_integer_value(json_object_get(p, "PrivatePort")));
			if (strcmp(want, a->argv[1]) ||
			    !berth_streq(json_string_value(json_object_get(p, "Type")), proto) ||
			    !json_integer_value(json_object_get(p, "PublicPort")))
				continue;
			const char *ip = json_string_value(json_object_get(p, "IP"));
			out_printf("%s:%lld\n", ip && *ip ? ip : "0.0.0.0",
				   (long long)json_integer_value(json_object_get(p, "PublicPort")));
			json_decref(list);
			return 0;
		}
		err_printf("no port %s/%s for container %s\n", a->argv[1], proto, ctr_name(ctr));
		json_decref(list);
		return 1;
	}
	err_printf("service \"%s\" is not running\n", a->argv[0]);
	json_decref(list);
	return 1;
}

/* pull and push: one image at a time, the registry's credentials from the config file, the
 * daemon's message stream read to its end (an error in it is the command's) */
static int image_op(struct cx *x, const char *img, bool push)
{
	struct ref r = {0};
	char *err = NULL;

	if (ref_parse_normalized(img, &r, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	char *auth = registry_auth_header(x->c, r.domain);
	char *name = push ? ref_familiar_name(&r) : ref_name(&r);
	struct sbuf t = SBUF_INIT;
	if (push) {
		sbuf_adds(&t, "/images/");
		url_path_escape(&t, name);
		sbuf_adds(&t, "/push?tag=");
		url_escape(&t, r.tag ? r.tag : "latest");
	} else {
		sbuf_adds(&t, "/images/create?fromImage=");
		url_escape(&t, name);
		sbuf_adds(&t, "&tag=");
		url_escape(&t, r.digest ? r.digest : r.tag ? r.tag : "latest");
	}
	ref_release(&r);
	free(name);
	progress("Image", img, push ? "Pushing" : "Pulling");
	int rc = cli_call_stream_h(x->c, "POST", sbuf_str(&t), NULL, auth);
	sbuf_release(&t);
	free(auth);
	if (rc < 0)
		return fail_c(x);
	struct sbuf body = SBUF_INIT;
	char buf[8192];
	ssize_t n;
	while ((n = cli_stream_read(x->c, buf, sizeof(buf))) > 0)
		sbuf_add(&body, buf, (size_t)n);
	/* the stream's error, if any: {"errorDetail":{...},"error":"..."} */
	int code = 0;
	for (char *line = body.p, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		json_t *j = json_loads(line, 0, NULL);
		const char *e = json_string_value(json_object_get(j, "error"));
		if (e) {
			err_printf("%s\n", e);
			code = 1;
		}
		json_decref(j);
		if (code)
			break;
	}
	sbuf_release(&body);
	if (!code)
		progress("Image", img, push ? "Pushed" : "Pulled");
	return code;
}

static int images_op(struct cx *x, struct cli_args *a, bool push)
{
	int code;
	json_t *sel = select_services(x, a->argc, a->argv, true, &code);
	const char *k;
	json_t *v;

	if (!sel)
		return code;
	json_object_foreach (sel, k, v) {
		const char *img = json_string_value(json_object_get(v, "image"));
		if (img && (code = image_op(x, img, push)))
			break;
	}
	json_decref(sel);
	return code;
}

static int cc_pull(struct cx *x, struct cli_args *a)
{
	return images_op(x, a, false);
}

static int cc_push(struct cx *x, struct cli_args *a)
{
	return images_op(x, a, true);
}

static int cc_build(struct cx *x, struct cli_args *a)
{
	struct build_opts bo = {
		.no_cache = flag_bool(a, "no-cache"),
		.pull = flag_bool(a, "pull"),
		.quiet = flag_bool(a, "quiet"),
		.args = flag_get(a, "build-arg"),
	};
	int code;
	json_t *sel = select_services(x, a->argc, a->argv, true, &code);

	if (!sel)
		return code;
	code = build_selected(x, sel, &bo, true, NULL);
	json_decref(sel);
	return code;
}

/* run: a one-off container of a service */
struct run_start {
	struct cx *x;
	int code;
};

static int run_start_cb(struct cli *c, const char *id, void *data)
{
	struct run_start *s = data;
	if (api(s->x, "POST", NULL, "/containers/%s/start", id) < 0) {
		s->code = fail_c(s->x);
		return -1;
	}
	(void)c;
	return 0;
}

static int cc_run(struct cx *x, struct cli_args *a)
{
	json_t *services = json_object_get(x->p.model, "services");
	const char *name = a->argv[0];
	json_t *svc = json_object_get(services, name);
	int code;

	if (!svc) {
		err_printf("no such service: %s\n", name);
		return 1;
	}
	/* its dependencies first, as up starts them */
	if (!flag_bool(a, "no-deps") && json_object_size(json_object_get(svc, "depends_on"))) {
		char *only[64];
		int n = 0;
		const char *d;
		json_t *dv;
		json_object_foreach (json_object_get(svc, "depends_on"), d, dv)
			if (n < 64 && json_object_get(services, d))
				only[n++] = (char *)d;
		json_t *sel = select_services(x, n, only, false, &code);
		struct up_opts o = {.no_recreate = true, .scale = json_object(), .timeout = 10};
		struct made m = {0};
		int r = sel ? converge(x, sel, &o, &m) : -1;
		json_t *dsel = json_pack("{s:O}", "x", svc);
		json_object_foreach (json_object_get(svc, "depends_on"), d, dv)
			if (r == 0 && json_object_get(services, d))
				r = wait_condition(
					x, d, json_string_value(json_object_get(dv, "condition")));
		json_decref(dsel);
		made_release(&m);
		json_decref(sel);
		json_decref(o.scale);
		if (r < 0)
			return fail_c(x);
	}
	json_t *copy = json_deep_copy(svc);
	if (a->argc > 1) {
		json_t *cmd = json_array();
		for (int i = 1; i < a->argc; i++)
			json_array_append_new(cmd, json_string(a->argv[i]));
		json_object_set_new(copy, "command", cmd);
	}
	if (flag_set(a, "entrypoint")) {
		char *err = NULL;
		json_t *ep = compose_shell_split(flag_str(a, "entrypoint"), &err);
		if (!ep) {
			err_printf("%s\n", err);
			free(err);
			json_decref(copy);
			return 1;
		}
		json_object_set_new(copy, "entrypoint", ep);
	}
	const struct flag_value *ev = flag_get(a, "env");
	json_t *env = json_object_get(copy, "environment");
	if (!env) {
		env = json_object();
		json_object_set_new(copy, "environment", env);
	}
	for (size_t i = 0; i < ev->n; i++) {
		const char *eq = strchr(ev->v[i], '=');
		char *k = eq ? xstrndup(ev->v[i], (size_t)(eq - ev->v[i])) : xstrdup(ev->v[i]);
		const char *val = eq ? eq + 1 : getenv(k);
		if (val)
			json_object_set_new(env, k, json_string(val));
		free(k);
	}
	if (flag_set(a, "user"))
		json_object_set_new(copy, "user", json_string(flag_str(a, "user")));
	if (flag_set(a, "workdir"))
		json_object_set_new(copy, "working_dir", json_string(flag_str(a, "workdir")));
	if (!flag_bool(a, "service-ports"))
		json_object_del(copy, "ports");
	bool detach = flag_bool(a, "detach");
	bool tty = !flag_bool(a, "no-TTY") && is_terminal(STDIN_FILENO) && !detach;
	bool in = !detach && (!flag_set(a, "interactive") || flag_bool(a, "interactive"));
	json_object_set_new(copy, "tty", json_boolean(tty));
	json_object_set_new(copy, "stdin_open", json_boolean(in));
	json_object_del(copy, "container_name");
	unsigned char rnd[6];
	FILE *ur = fopen("/dev/urandom", "re");
	if (!ur || fread(rnd, 1, sizeof(rnd), ur) != sizeof(rnd)) {
		if (ur)
			fclose(ur);
		err_printf("cannot read /dev/urandom\n");
		json_decref(copy);
		return 1;
	}
	fclose(ur);
	char hex[2 * sizeof(rnd) + 1];
	berth_hex_encode(hex, rnd, sizeof(rnd));
	char *cname = flag_set(a, "name") ? xstrdup(flag_str(a, "name"))
					  : xasprintf("%s-%s-run-%s", x->p.name, name, hex);
	char *id = NULL;
	/* with stdin open the container needs StdinOnce so closing ours closes its */
	json_t *body;
	if (build_create(x, name, copy, 1, true, cname, &body) < 0) {
		free(cname);
		json_decref(copy);
		return 1;
	}
	json_object_set_new(body, "AttachStdin", json_boolean(in));
	json_object_set_new(body, "StdinOnce", json_boolean(in));
	json_object_set_new(body, "AttachStdout", json_boolean(!detach));
	json_object_set_new(body, "AttachStderr", json_boolean(!detach));
	if (flag_bool(a, "rm"))
		json_object_set_new(json_object_get(body, "HostConfig"), "AutoRemove",
				    json_boolean(!detach));
	struct sbuf t = SBUF_INIT;
	struct cli_response r;
	sbuf_adds(&t, "/containers/create?name=");
	url_escape(&t, cname);
	int rc = cli_call(x->c, "POST", sbuf_str(&t), body, &r);
	sbuf_release(&t);
	json_decref(body);
	json_decref(copy);
	if (rc < 0) {
		free(cname);
		return fail_c(x);
	}
	id = xstrdup(json_string_value(json_object_get(r.json, "Id")));
	cli_response_release(&r);
	if (detach) {
		code = api(x, "POST", NULL, "/containers/%s/start", id) < 0 ? fail_c(x) : 0;
		if (!code)
			out_printf("%s\n", cname);
		free(id);
		free(cname);
		return code;
	}
	struct berth_http_client *w = NULL;
	struct sbuf wt = SBUF_INIT;
	sbuf_printf(&wt, "/containers/%s/wait?condition=%s", id,
		    flag_bool(a, "rm") ? "removed" : "next-exit");
	if (cli_call_on(x->c, &w, "POST", sbuf_str(&wt), NULL, false) < 0) {
		sbuf_release(&wt);
		berth_http_client_free(w);
		free(id);
		free(cname);
		return fail_c(x);
	}
	sbuf_release(&wt);
	struct run_start s = {.x = x};
	int arc = attach_and(x->c, id, in, tty, true, NULL, run_start_cb, &s);
	code = s.code;
	if (!code && arc == 1)
		code = 1;
	if (!code && arc != 2)
		code = read_wait(x->c, w);
	berth_http_client_free(w);
	free(id);
	free(cname);
	return code;
}

/* exec: a command in a running container of a service (--index, default 1) */
static int cc_exec(struct cx *x, struct cli_args *a)
{
	int code;
	int64_t index = flag_set(a, "index") ? flag_get(a, "index")->i : 1;
	bool detach = flag_bool(a, "detach");
	bool tty = !flag_bool(a, "no-TTY") && is_terminal(STDIN_FILENO) && !detach;
	bool in = !detach && (!flag_set(a, "interactive") || flag_bool(a, "interactive"));
	json_t *list = targets(x, 1, a->argv, false, false, &code);
	const char *id = NULL;
	size_t i;
	json_t *ctr;

	if (!list)
		return code;
	json_array_foreach (list, i, ctr)
		if (ctr_number(ctr) == index)
			id = ctr_id(ctr);
	if (!id) {
		err_printf("service \"%s\" is not running\n", a->argv[0]);
		json_decref(list);
		return 1;
	}
	json_t *cmd = json_array(), *env = json_array();
	for (int k = 1; k < a->argc; k++)
		json_array_append_new(cmd, json_string(a->argv[k]));
	const struct flag_value *ev = flag_get(a, "env");
	for (size_t k = 0; k < ev->n; k++)
		env_value_add(ev->v[k], env);
	json_t *body = json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:o, s:s, s:o}", "User",
				 flag_str(a, "user") ?: "", "Privileged",
				 flag_bool(a, "privileged"), "Tty", tty, "AttachStdin", in,
				 "AttachStdout", !detach, "AttachStderr", !detach, "Env", env,
				 "WorkingDir", flag_str(a, "workdir") ?: "", "Cmd", cmd);
	struct sbuf t = SBUF_INIT;
	struct cli_response r;
	sbuf_printf(&t, "/containers/%s/exec", id);
	int rc = cli_call(x->c, "POST", sbuf_str(&t), body, &r);
	json_decref(body);
	json_decref(list);
	if (rc < 0) {
		sbuf_release(&t);
		return fail_c(x);
	}
	char *exec_id = xstrdup(json_string_value(json_object_get(r.json, "Id")) ?: "");
	cli_response_release(&r);
	json_t *start = json_pack("{s:b,s:b}", "Detach", detach, "Tty", tty);
	sbuf_reset(&t);
	sbuf_printf(&t, "/exec/%s/start", exec_id);
	if (detach) {
		code = cli_call(x->c, "POST", sbuf_str(&t), start, &r) < 0 ? fail_c(x) : 0;
		if (!code)
			cli_response_release(&r);
	} else {
		struct sbuf rs = SBUF_INIT;
		sbuf_printf(&rs, "/exec/%s", exec_id);
		struct stream_opts o = {
			.method = "POST",
			.target = sbuf_str(&t),
			.body = start,
			.resize = tty ? sbuf_str(&rs) : NULL,
			.in = in,
			.tty = tty,
		};
		code = stream_session(x->c, &o, NULL, NULL);
		sbuf_release(&rs);
		if (code == 0) {
			char p[128];
			snprintf(p, sizeof(p), "/exec/%s/json", exec_id);
			json_t *j = api_json(x, p);
			code = j ? (int)json_integer_value(json_object_get(j, "ExitCode"))
				 : fail_c(x);
			json_decref(j);
		}
	}
	json_decref(start);
	sbuf_release(&t);
	free(exec_id);
	return code;
}

/* ---- the command table ------------------------------------------------------------------------ */

struct compose_cmd {
	struct cli_cmd cmd;
	int (*run)(struct cx *x, struct cli_args *a);
	bool needs_project;
};

static const struct cli_flag up_flags[] = {
	{"detach", 'd', FK_BOOL, NULL, NULL, "Detached mode: Run containers in the background"},
	{"build", 0, FK_BOOL, NULL, NULL, "Build images before starting containers"},
	{"no-build", 0, FK_BOOL, NULL, NULL, "Don't build an image, even if it's policy"},
	{"scale", 0, FK_LIST, "scale", NULL,
	 "Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if "
	 "present."},
	{"force-recreate", 0, FK_BOOL, NULL, NULL,
	 "Recreate containers even if their configuration and image haven't changed"},
	{"no-recreate", 0, FK_BOOL, NULL, NULL,
	 "If containers already exist, don't recreate them. Incompatible with --force-recreate."},
	{"no-deps", 0, FK_BOOL, NULL, NULL, "Don't start linked services"},
	{"no-start", 0, FK_BOOL, NULL, NULL, "Don't start the services after creating them"},
	{"remove-orphans", 0, FK_BOOL, NULL, NULL,
	 "Remove containers for services not defined in the Compose file"},
	{"wait", 0, FK_BOOL, NULL, NULL,
	 "Wait for services to be running|healthy. Implies detached mode."},
	{"abort-on-container-exit", 0, FK_BOOL, NULL, NULL,
	 "Stops all containers if any container was stopped. Incompatible with -d"},
	{"timeout", 't', FK_INT, "int", NULL,
	 "Use this timeout in seconds for container shutdown when attached or when containers "
	 "are already running"},
};
static const struct cli_flag build_flags[] = {
	{"build-arg", 0, FK_LIST, "stringArray", NULL, "Set build-time variables for services"},
	{"no-cache", 0, FK_BOOL, NULL, NULL, "Do not use cache when building the image"},
	{"pull", 0, FK_BOOL, NULL, NULL, "Always attempt to pull a newer version of the image"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Don't print anything to STDOUT"},
};
static const struct cli_flag down_flags[] = {
	{"volumes", 'v', FK_BOOL, NULL, NULL,
	 "Remove named volumes declared in the \"volumes\" section of the Compose file and "
	 "anonymous volumes attached to containers"},
	{"rmi", 0, FK_STRING, "string", NULL,
	 "Remove images used by services. \"local\" remove only images that don't have a custom "
	 "tag (\"local\"|\"all\")"},
	{"remove-orphans", 0, FK_BOOL, NULL, NULL,
	 "Remove containers for services not defined in the Compose file"},
	{"timeout", 't', FK_INT, "int", NULL, "Specify a shutdown timeout in seconds"},
};
static const struct cli_flag ps_flags[] = {
	{"all", 'a', FK_BOOL, NULL, NULL,
	 "Show all stopped containers (including those created by the run command)"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Only display IDs"},
	{"format", 0, FK_STRING, "string", "table", "Format the output. Values: [table | json]"},
};
static const struct cli_flag logs_flags[] = {
	{"follow", 'f', FK_BOOL, NULL, NULL, "Follow log output"},
	{"tail", 'n', FK_STRING, "string", "all",
	 "Number of lines to show from the end of the logs for each container"},
	{"timestamps", 't', FK_BOOL, NULL, NULL, "Show timestamps"},
	{"no-log-prefix", 0, FK_BOOL, NULL, NULL, "Don't print prefix in logs"},
};
static const struct cli_flag stop_flags[] = {
	{"timeout", 't', FK_INT, "int", NULL, "Specify a shutdown timeout in seconds"},
};
static const struct cli_flag kill_flags[] = {
	{"signal", 's', FK_STRING, "string", "SIGKILL", "SIGNAL to send to the container"},
};
static const struct cli_flag rm_flags[] = {
	{"force", 'f', FK_BOOL, NULL, NULL, "Don't ask to confirm removal"},
	{"stop", 's', FK_BOOL, NULL, NULL, "Stop the containers, if required, before removing"},
	{"volumes", 'v', FK_BOOL, NULL, NULL,
	 "Remove any anonymous volumes attached to containers"},
};
static const struct cli_flag config_flags[] = {
	{"services", 0, FK_BOOL, NULL, NULL, "Print the service names, one per line."},
	{"volumes", 0, FK_BOOL, NULL, NULL, "Print the volume names, one per line."},
	{"quiet", 'q', FK_BOOL, NULL, NULL,
	 "Only validate the configuration, don't print anything."},
	{"format", 0, FK_STRING, "string", "yaml", "Format the output. Values: [yaml | json]"},
};
static const struct cli_flag ls_flags[] = {
	{"all", 'a', FK_BOOL, NULL, NULL, "Show all stopped Compose projects"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Only display IDs"},
	{"format", 0, FK_STRING, "string", "table", "Format the output. Values: [table | json]"},
};
static const struct cli_flag images_flags[] = {
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Only display IDs"},
};
static const struct cli_flag port_flags[] = {
	{"protocol", 0, FK_STRING, "string", "tcp", "tcp or udp"},
	{"index", 0, FK_INT, "int", "1", "Index of the container if service has multiple replicas"},
};
static const struct cli_flag run_flags[] = {
	{"detach", 'd', FK_BOOL, NULL, NULL, "Run container in background and print container ID"},
	{"rm", 0, FK_BOOL, NULL, NULL, "Automatically remove the container when it exits"},
	{"env", 'e', FK_LIST, "stringArray", NULL, "Set environment variables"},
	{"entrypoint", 0, FK_STRING, "string", NULL, "Override the entrypoint of the image"},
	{"name", 0, FK_STRING, "string", NULL, "Assign a name to the container"},
	{"no-TTY", 'T', FK_BOOL, NULL, NULL, "Disable pseudo-TTY allocation"},
	{"interactive", 'i', FK_BOOL, NULL, "true", "Keep STDIN open even if not attached"},
	{"no-deps", 0, FK_BOOL, NULL, NULL, "Don't start linked services"},
	{"service-ports", 0, FK_BOOL, NULL, NULL,
	 "Run command with all service's ports enabled and mapped to the host"},
	{"user", 'u', FK_STRING, "string", NULL, "Run as specified username or uid"},
	{"workdir", 'w', FK_STRING, "string", NULL, "Working directory inside the container"},
};
static const struct cli_flag exec_flags[] = {
	{"detach", 'd', FK_BOOL, NULL, NULL, "Detached mode: Run command in the background"},
	{"env", 'e', FK_LIST, "stringArray", NULL, "Set environment variables"},
	{"index", 0, FK_INT, "int", "1", "Index of the container if service has multiple replicas"},
	{"no-TTY", 'T', FK_BOOL, NULL, NULL, "Disable pseudo-TTY allocation"},
	{"interactive", 'i', FK_BOOL, NULL, "true", "Keep STDIN open even if not attached"},
	{"privileged", 0, FK_BOOL, NULL, NULL, "Give extended privileges to the process"},
	{"user", 'u', FK_STRING, "string", NULL, "Run the command as this user"},
	{"workdir", 'w', FK_STRING, "string", NULL, "Path to workdir directory for this command"},
};
static const struct cli_flag no_flags[0];

#define CC(nm, use_, desc, fl, rule, mn, mx, fn)                                                   \
	{                                                                                          \
		.cmd = {.name = nm,                                                                \
			.use = use_,                                                               \
			.short_desc = desc,                                                        \
			.flags = fl,                                                               \
			.n_flags = ARRAY_SIZE(fl),                                                 \
			.args = rule,                                                              \
			.min_args = mn,                                                            \
			.max_args = mx},                                                           \
		.run = fn, .needs_project = true,                                                  \
	}

static const struct compose_cmd compose_cmds[] = {
	CC("build", "[OPTIONS] [SERVICE...]", "Build or rebuild services", build_flags, ARGS_ANY, 0,
	   0, cc_build),
	CC("config", "[OPTIONS] [SERVICE...]",
	   "Parse, resolve and render compose file in canonical "
	   "format",
	   config_flags, ARGS_ANY, 0, 0, cc_config),
	CC("down", "[OPTIONS] [SERVICES]", "Stop and remove containers, networks", down_flags,
	   ARGS_ANY, 0, 0, cc_down),
	CC("exec", "[OPTIONS] SERVICE COMMAND [ARGS...]",
	   "Execute a command in a running container", exec_flags, ARGS_MIN, 2, 0, cc_exec),
	CC("images", "[OPTIONS] [SERVICE...]", "List images used by the created containers",
	   images_flags, ARGS_ANY, 0, 0, cc_images),
	CC("kill", "[OPTIONS] [SERVICE...]", "Force stop service containers", kill_flags, ARGS_ANY,
	   0, 0, cc_kill),
	CC("logs", "[OPTIONS] [SERVICE...]", "View output from containers", logs_flags, ARGS_ANY, 0,
	   0, cc_logs),
	CC("ls", "[OPTIONS]", "List running compose projects", ls_flags, ARGS_NONE, 0, 0, cc_ls),
	CC("port", "[OPTIONS] SERVICE PRIVATE_PORT", "Print the public port for a port binding",
	   port_flags, ARGS_EXACT, 2, 2, cc_port),
	CC("ps", "[OPTIONS] [SERVICE...]", "List containers", ps_flags, ARGS_ANY, 0, 0, cc_ps),
	CC("pull", "[OPTIONS] [SERVICE...]", "Pull service images", no_flags, ARGS_ANY, 0, 0,
	   cc_pull),
	CC("push", "[OPTIONS] [SERVICE...]", "Push service images", no_flags, ARGS_ANY, 0, 0,
	   cc_push),
	CC("restart", "[OPTIONS] [SERVICE...]", "Restart service containers", stop_flags, ARGS_ANY,
	   0, 0, cc_restart),
	CC("rm", "[OPTIONS] [SERVICE...]", "Removes stopped service containers", rm_flags, ARGS_ANY,
	   0, 0, cc_rm),
	CC("run", "[OPTIONS] SERVICE [COMMAND] [ARGS...]", "Run a one-off command on a service",
	   run_flags, ARGS_MIN, 1, 0, cc_run),
	CC("start", "[SERVICE...]", "Start services", no_flags, ARGS_ANY, 0, 0, cc_start),
	CC("stop", "[OPTIONS] [SERVICE...]", "Stop services", stop_flags, ARGS_ANY, 0, 0, cc_stop),
	CC("top", "[SERVICES...]", "Display the running processes", no_flags, ARGS_ANY, 0, 0,
	   cc_top),
	CC("up", "[OPTIONS] [SERVICE...]", "Create and start containers", up_flags, ARGS_ANY, 0, 0,
	   cc_up),
};

static const struct cli_flag compose_flags[] = {
	{"file", 'f', FK_LIST, "stringArray", NULL, "Compose configuration files"},
	{"project-name", 'p', FK_STRING, "string", NULL, "Project name"},
	{"project-directory", 0, FK_STRING, "string", NULL,
	 "Specify an alternate working directory\n(default: the path of the, first specified, "
	 "Compose file)"},
	{"env-file", 0, FK_LIST, "stringArray", NULL, "Specify an alternate environment file"},
	{"profile", 0, FK_LIST, "stringArray", NULL, "Specify a profile to enable"},
	{"help", 'h', FK_BOOL, NULL, NULL, "Print usage", FLAG_HIDDEN},
};

static void compose_help(void)
{
	out_printf("\nUsage:  %s compose [OPTIONS] COMMAND\n\nDefine and run multi-container "
		   "applications with berth\n\nOptions:\n",
		   CLI_NAME);
	struct sbuf b = SBUF_INIT;
	flags_usage(&b, compose_flags, ARRAY_SIZE(compose_flags), term_width(), NULL);
	out_puts(sbuf_str(&b) ?: "");
	sbuf_release(&b);
	out_printf("\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(compose_cmds); i++)
		out_printf("  %-11s %s\n", compose_cmds[i].cmd.name,
			   compose_cmds[i].cmd.short_desc);
	out_printf("\nRun '%s compose COMMAND --help' for more information on a command.\n",
		   CLI_NAME);
}

static int run_compose(struct cli *c, struct cli_args *ra)
{
	struct flag_value gv[ARRAY_SIZE(compose_flags)] = {0};
	char **rest = NULL, *err = NULL;
	int nrest = 0, dash = -1, code;
	bool help = false;

	if (flags_parse(compose_flags, ARRAY_SIZE(compose_flags), gv, NULL, 0, NULL, false,
			ra->argc, ra->argv, &rest, &nrest, &dash, &help, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	if (help || nrest == 0) {
		compose_help();
		free(rest);
		for (size_t i = 0; i < ARRAY_SIZE(gv); i++)
			free(gv[i].v);
		return 0;
	}
	const struct compose_cmd *cc = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(compose_cmds); i++)
		if (!strcmp(compose_cmds[i].cmd.name, rest[0]))
			cc = &compose_cmds[i];
	if (!cc) {
		err_printf("unknown %s command: \"compose %s\"\n", CLI_NAME, rest[0]);
		free(rest);
		for (size_t i = 0; i < ARRAY_SIZE(gv); i++)
			free(gv[i].v);
		return 1;
	}
	struct cli_args a = {.cmd = &cc->cmd, .dash_at = -1};
	snprintf(a.path, sizeof(a.path), "%s compose %s", CLI_NAME, cc->cmd.name);
	a.v = xcalloc(cc->cmd.n_flags + 1, sizeof(*a.v));
	if (flags_parse(cc->cmd.flags, cc->cmd.n_flags, a.v, compose_flags,
			ARRAY_SIZE(compose_flags), gv,
			strcmp(cc->cmd.name, "run") != 0 && strcmp(cc->cmd.name, "exec") != 0,
			nrest - 1, rest + 1, &a.argv, &a.argc, &a.dash_at, &help, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		code = 1;
		goto out;
	}
	if (help) {
		struct sbuf b = SBUF_INIT;
		cmd_help(c, &b, &cc->cmd, NULL, a.path);
		out_puts(sbuf_str(&b) ?: "");
		sbuf_release(&b);
		code = 0;
		goto out;
	}
	if ((cc->cmd.args == ARGS_NONE && a.argc > 0) ||
	    (cc->cmd.args == ARGS_EXACT && a.argc != cc->cmd.min_args) ||
	    (cc->cmd.args == ARGS_MIN && a.argc < cc->cmd.min_args)) {
		err_printf("\"%s\" requires %s%d argument%s\n", a.path,
			   cc->cmd.args == ARGS_MIN ? "at least " : "exactly ", cc->cmd.min_args,
			   cc->cmd.min_args == 1 ? "" : "s");
		code = 1;
		goto out;
	}
	struct compose_opts o = {
		.files = gv[0].v,
		.n_files = gv[0].n,
		.project_name = gv[1].s,
		.project_directory = gv[2].s,
		.env_file = gv[3].s,
		.profiles = gv[4].v,
		.n_profiles = gv[4].n,
	};
	struct cx x = {.c = c};
	if (!strcmp(cc->cmd.name, "ls")) {
		code = cc->run(&x, &a);
		goto out;
	}
	code = compose_load(&o, &x.p, &err);
	if (code) {
		out_flush();
		err_printf("%s\n", err);
		free(err);
		goto out;
	}
	code = cc->run(&x, &a);
	compose_project_release(&x.p);
out:
	for (size_t i = 0; i < cc->cmd.n_flags; i++)
		free(a.v[i].v);
	free(a.v);
	free(a.argv);
	free(rest);
	for (size_t i = 0; i < ARRAY_SIZE(gv); i++)
		free(gv[i].v);
	return code;
}

const struct cli_cmd cmd_compose = {
	.name = "compose",
	.use = "[OPTIONS] COMMAND",
	.short_desc = "Define and run multi-container applications",
	.raw_args = true,
	.run = run_compose,
};
