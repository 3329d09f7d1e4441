/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker's inspect machinery (see inspect.h), and the Go types of the objects it prints.
 */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "inspect.h"
#include "base/banned.h"

/* ---- docker's Go types, for templates ------------------------------------------------------------ */

#define F(go, kind)                                                                                \
	{                                                                                          \
		go, NULL, kind, false, NULL                                                        \
	}
#define FO(go, kind)                                                                               \
	{                                                                                          \
		go, NULL, kind, true, NULL                                                         \
	}
#define FS(go, json, kind, omit, sub)                                                              \
	{                                                                                          \
		go, json, kind, omit, sub                                                          \
	}

/* dockerspec.HealthcheckConfig (container.HealthConfig) */
static const struct tschema_field health_fields[] = {
	FO("Test", 'a'),	FO("Interval", 'd'),	  FO("Timeout", 'd'),
	FO("StartPeriod", 'd'), FO("StartInterval", 'd'), FO("Retries", 'i'),
};
static const struct tschema health_schema = {"container.HealthConfig", health_fields,
					     ARRAY_SIZE(health_fields), false, false};

/* container.Config */
static const struct tschema_field container_config_fields[] = {
	F("Hostname", 's'),
	F("Domainname", 's'),
	F("User", 's'),
	F("AttachStdin", 'b'),
	F("AttachStdout", 'b'),
	F("AttachStderr", 'b'),
	FO("ExposedPorts", 'm'),
	F("Tty", 'b'),
	F("OpenStdin", 'b'),
	F("StdinOnce", 'b'),
	F("Env", 'a'),
	F("Cmd", 'a'),
	FS("Healthcheck", NULL, 'p', true, &health_schema),
	FO("ArgsEscaped", 'b'),
	F("Image", 's'),
	F("Volumes", 'm'),
	F("WorkingDir", 's'),
	F("Entrypoint", 'a'),
	FO("NetworkDisabled", 'b'),
	FO("MacAddress", 's'),
	F("OnBuild", 'a'),
	F("Labels", 'm'),
	FO("StopSignal", 's'),
	FO("StopTimeout", 'x'),
	FO("Shell", 'a'),
};
const struct tschema container_config_schema = {"container.Config", container_config_fields,
						ARRAY_SIZE(container_config_fields), false, false};

/* ocispec.ImageConfig and dockerspec.DockerOCIImageConfigExt, embedded in DockerOCIImageConfig */
static const struct tschema_field oci_config_fields[] = {
	FO("User", 's'),	FO("ExposedPorts", 'm'), FO("Env", 'a'),
	FO("Entrypoint", 'a'),	FO("Cmd", 'a'),		 FO("Volumes", 'm'),
	FO("WorkingDir", 's'),	FO("Labels", 'm'),	 FO("StopSignal", 's'),
	FO("ArgsEscaped", 'b'),
};
static const struct tschema oci_config_schema = {"v1.ImageConfig", oci_config_fields,
						 ARRAY_SIZE(oci_config_fields), false, false};
static const struct tschema_field config_ext_fields[] = {
	FS("Healthcheck", NULL, 'p', true, &health_schema),
	FO("OnBuild", 'a'),
	FO("Shell", 'a'),
};
static const struct tschema config_ext_schema = {"v1.DockerOCIImageConfigExt", config_ext_fields,
						 ARRAY_SIZE(config_ext_fields), false, false};
static const struct tschema_field image_config_fields[] = {
	FS("ImageConfig", NULL, 'e', false, &oci_config_schema),
	FS("DockerOCIImageConfigExt", NULL, 'e', false, &config_ext_schema),
};
static const struct tschema image_config_schema = {"v1.DockerOCIImageConfig", image_config_fields,
						   ARRAY_SIZE(image_config_fields), false, false};

static const struct tschema_field driver_data_fields[] = {F("Data", 'm'), F("Name", 's')};
static const struct tschema driver_data_schema = {"storage.DriverData", driver_data_fields, 2,
						  false, false};

static const struct tschema_field rootfs_fields[] = {FO("Type", 's'), FO("Layers", 'a')};
static const struct tschema rootfs_schema = {"image.RootFS", rootfs_fields, 2, false, false};

static const struct tschema_field metadata_fields[] = {FO("LastTagTime", 't')};
static const struct tschema metadata_schema = {"image.Metadata", metadata_fields, 1, false, false};

static const struct tschema_field platform_fields[] = {
	FS("Architecture", "architecture", 's', false, NULL),
	FS("OS", "os", 's', false, NULL),
	FS("OSVersion", "os.version", 's', true, NULL),
	FS("OSFeatures", "os.features", 'a', true, NULL),
	FS("Variant", "variant", 's', true, NULL),
};
static const struct tschema platform_schema = {"v1.Platform", platform_fields,
					       ARRAY_SIZE(platform_fields), false, false};

static const struct tschema_field descriptor_fields[] = {
	FS("MediaType", "mediaType", 's', false, NULL),
	FS("Digest", "digest", 's', false, NULL),
	FS("Size", "size", 'i', false, NULL),
	FS("URLs", "urls", 'a', true, NULL),
	FS("Annotations", "annotations", 'm', true, NULL),
	FS("Data", "data", 'x', true, NULL),
	FS("Platform", "platform", 'p', true, &platform_schema),
	FS("ArtifactType", "artifactType", 's', true, NULL),
};
static const struct tschema descriptor_schema = {"v1.Descriptor", descriptor_fields,
						 ARRAY_SIZE(descriptor_fields), false, false};

/* image.InspectResponse (docker 28) */
static const struct tschema_field image_inspect_fields[] = {
	FS("ID", "Id", 's', false, NULL),
	F("RepoTags", 'a'),
	F("RepoDigests", 'a'),
	F("Parent", 's'),
	F("Comment", 's'),
	FO("Created", 's'),
	FO("Container", 's'),
	FS("ContainerConfig", NULL, 'p', true, &container_config_schema),
	F("DockerVersion", 's'),
	F("Author", 's'),
	FS("Config", NULL, 'p', false, &image_config_schema),
	F("Architecture", 's'),
	FO("Variant", 's'),
	F("Os", 's'),
	FO("OsVersion", 's'),
	F("Size", 'i'),
	FO("VirtualSize", 'i'),
	FS("GraphDriver", NULL, 'o', false, &driver_data_schema),
	FS("RootFS", NULL, 'o', false, &rootfs_schema),
	FS("Metadata", NULL, 'o', false, &metadata_schema),
	FS("Descriptor", NULL, 'p', true, &descriptor_schema),
	FO("Manifests", 'a'),
};
const struct tschema image_inspect_schema = {"image.InspectResponse", image_inspect_fields,
					     ARRAY_SIZE(image_inspect_fields), false, false};

/* ---- the names of the fields of the types berth leaves untyped (see tschema.names_only) ---- */

#define N(go)                                                                                      \
	{                                                                                          \
		go, NULL, 0, false, NULL                                                           \
	}
#define NS(go, sub)                                                                                \
	{                                                                                          \
		go, NULL, 0, false, sub                                                            \
	}
#define NK(go, kind)                                                                               \
	{                                                                                          \
		go, NULL, kind, false, NULL                                                        \
	}
#define NAMES(var, type, list)                                                                     \
	const struct tschema var = {.type_name = type,                                             \
				    .fields = list,                                                \
				    .n_fields = ARRAY_SIZE(list),                                  \
				    .names_only = true}

/* container.State */
static const struct tschema_field state_names[] = {
	N("Status"),	N("Running"),	N("Paused"),	 N("Restarting"),
	N("OOMKilled"), N("Dead"),	N("Pid"),	 N("ExitCode"),
	N("Error"),	N("StartedAt"), N("FinishedAt"), NK("Health", 'p'),
};
static NAMES(state_names_schema, "container.State", state_names);

/* container.Config (the fields the daemon may leave out read as their zero values) */
static const struct tschema_field config_names[] = {
	N("Hostname"),
	N("Domainname"),
	N("User"),
	N("AttachStdin"),
	N("AttachStdout"),
	N("AttachStderr"),
	NK("ExposedPorts", 'm'),
	N("Tty"),
	N("OpenStdin"),
	N("StdinOnce"),
	NK("Env", 'a'),
	NK("Cmd", 'a'),
	NK("Healthcheck", 'p'),
	NK("ArgsEscaped", 'b'),
	N("Image"),
	NK("Volumes", 'm'),
	N("WorkingDir"),
	NK("Entrypoint", 'a'),
	NK("NetworkDisabled", 'b'),
	NK("MacAddress", 's'),
	NK("OnBuild", 'a'),
	NK("Labels", 'm'),
	NK("StopSignal", 's'),
	NK("StopTimeout", 'p'),
	NK("Shell", 'a'),
};
static NAMES(config_names_schema, "container.Config", config_names);

/* container.InspectResponse: its embedded *ContainerJSONBase (a field by that name too) and
 * its own fields */
static const struct tschema_field container_names[] = {
	NK("ContainerJSONBase", 'e'),
	N("ID"),
	N("Created"),
	N("Path"),
	N("Args"),
	NS("State", &state_names_schema),
	N("Image"),
	N("ResolvConfPath"),
	N("HostnamePath"),
	N("HostsPath"),
	N("LogPath"),
	N("Name"),
	N("RestartCount"),
	N("Driver"),
	N("Platform"),
	N("MountLabel"),
	N("ProcessLabel"),
	N("AppArmorProfile"),
	N("ExecIDs"),
	N("HostConfig"),
	N("GraphDriver"),
	NK("SizeRw", 'p'),
	NK("SizeRootFs", 'p'),
	N("Mounts"),
	NS("Config", &config_names_schema),
	N("NetworkSettings"),
	NK("ImageManifestDescriptor", 'p'),
};
static NAMES(container_names_schema, "container.InspectResponse", container_names);

/* network.IPAM and network.Inspect */
static const struct tschema_field ipam_names[] = {N("Driver"), N("Options"), N("Config")};
static NAMES(ipam_names_schema, "network.IPAM", ipam_names);
static const struct tschema_field network_names[] = {
	N("Name"),
	N("ID"),
	N("Created"),
	N("Scope"),
	N("Driver"),
	NK("EnableIPv4", 'b'),
	NK("EnableIPv6", 'b'),
	NS("IPAM", &ipam_names_schema),
	NK("Internal", 'b'),
	NK("Attachable", 'b'),
	NK("Ingress", 'b'),
	NK("ConfigFrom", 'o'),
	NK("ConfigOnly", 'b'),
	NK("Containers", 'm'),
	NK("Options", 'm'),
	NK("Labels", 'm'),
	NK("Peers", 'a'),
	NK("Services", 'm'),
};
static NAMES(network_names_schema, "network.Inspect", network_names);

/* volume.Volume: small enough to type in full */
static const struct tschema_field volume_fields[] = {
	FS("ClusterVolume", NULL, 'p', true, NULL),
	FO("CreatedAt", 's'),
	F("Driver", 's'),
	F("Labels", 'm'),
	F("Mountpoint", 's'),
	F("Name", 's'),
	F("Options", 'm'),
	F("Scope", 's'),
	FO("Status", 'm'),
	FS("UsageData", NULL, 'p', true, NULL),
};
static const struct tschema volume_schema = {"volume.Volume", volume_fields,
					     ARRAY_SIZE(volume_fields), false, false};

#undef F
#undef FO
#undef FS
#undef N
#undef NS
#undef NK
#undef NAMES

/* ---- the types --------------------------------------------------------------------------------- */

const struct inspect_type inspect_types[] = {
	{"container", "/containers/%s/json", NULL, true, false, "container",
	 &container_names_schema},
	{"image", "/images/%s/json", NULL, false, false, NULL, &image_inspect_schema},
	{"network", "/networks/%s", NULL, false, false, "network", &network_names_schema},
	{"volume", "/volumes/%s", NULL, false, false, "volume", &volume_schema},
	{"service", "/services/%s", "insertDefaults=true", false, true, "service", NULL},
	{"task", "/tasks/%s", NULL, false, true, "task", NULL},
	{"node", "/nodes/%s", NULL, false, true, "node", NULL},
	{"plugin", "/plugins/%s/json", NULL, false, false, "plugin", NULL},
	{"secret", "/secrets/%s", NULL, false, true, "secret", NULL},
	/* sic: docker's client calls it "contig" */
	{"config", "/configs/%s", NULL, false, true, "contig", NULL},
};
const size_t n_inspect_types = ARRAY_SIZE(inspect_types);

const struct inspect_type *inspect_type_find(const char *name)
{
	for (size_t i = 0; i < n_inspect_types; i++)
		if (strcmp(inspect_types[i].name, name) == 0)
			return &inspect_types[i];
	return NULL;
}

void inspect_obj_release(struct inspect_obj *o)
{
	cli_arena_free(o->raw); /* a response body (cli_call) */
	if (o->json)
		json_decref(o->json);
	memset(o, 0, sizeof(*o));
}

int inspect_fetch(struct cli *c, const struct inspect_type *t, const char *ref, bool size,
		  struct inspect_obj *ret, char **ret_err, bool *ret_not_found)
{
	_cleanup_sbuf_ struct sbuf name = SBUF_INIT, target = SBUF_INIT;
	struct cli_response r;
	char sep = '?';

	_cleanup_free_ char *trimmed = NULL;

	*ret_not_found = false;
	if (t->trim_as) {
		/* strings.TrimSpace */
		const char *b = ref, *e = ref + strlen(ref);
		while (b < e && strchr(" \t\n\r\v\f", *b))
			b++;
		while (e > b && strchr(" \t\n\r\v\f", e[-1]))
			e--;
		trimmed = xstrndup(b, (size_t)(e - b));
		ref = trimmed;
		if (!*ref) {
			*ret_err = xasprintf("invalid %s name or ID: value is empty", t->trim_as);
			return -1;
		}
	} else if (!*ref) {
		/* docker's client: an empty name is not found, and nothing is asked */
		*ret_not_found = true;
		*ret_err = xasprintf("Error: No such %s: ", t->name);
		return -1;
	}
	url_path_escape(&name, ref);
	/* the path has exactly one "%s" */
	const char *hole = strstr(t->path, "%s");
	sbuf_add(&target, t->path, (size_t)(hole - t->path));
	sbuf_adds(&target, sbuf_str(&name));
	sbuf_adds(&target, hole + 2);
	if (t->query) {
		sbuf_printf(&target, "%c%s", sep, t->query);
		sep = '&';
	}
	if (size && t->size_supported)
		sbuf_printf(&target, "%csize=1", sep);
	if (cli_call(c, "GET", sbuf_str(&target), NULL, &r) < 0) {
		*ret_not_found = c->err_status == 404;
		*ret_err = xstrdup(c->err ? c->err : "failed");
		return -1;
	}
	ret->raw = TAKE_PTR(r.body);
	ret->len = r.len;
	ret->json = r.json ? r.json : json_loadb(ret->raw, ret->len, JSON_DECODE_ANY, NULL);
	r.json = NULL;
	ret->schema = t->schema;
	cli_response_release(&r);
	return 0;
}

/* ---- json.Indent and json.Compact -------------------------------------------------------------- */

static void newline(struct sbuf *out, const char *indent, int depth)
{
	sbuf_addc(out, '\n');
	for (int i = 0; i < depth; i++)
		sbuf_adds(out, indent);
}

int json_reformat(struct sbuf *out, const char *src, size_t n, const char *indent)
{
	int depth = 0;
	bool need_indent = false; /* an open bracket waits for its first element */

	for (size_t i = 0; i < n; i++) {
		char ch = src[i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (need_indent && ch != ']' && ch != '}') {
			need_indent = false;
			depth++;
			newline(out, indent, depth);
		}
		if (ch == '"') {
			size_t start = i++;
			while (i < n && src[i] != '"') {
				if (src[i] == '\\')
					i++;
				i++;
			}
			if (i >= n)
				return -1;
			sbuf_add(out, src + start, i - start + 1);
			continue;
		}
		switch (ch) {
		case '{':
		case '[':
			sbuf_addc(out, ch);
			if (indent)
				need_indent = true;
			break;
		case ',':
			sbuf_addc(out, ch);
			if (indent)
				newline(out, indent, depth);
			break;
		case ':':
			sbuf_addc(out, ch);
			if (indent)
				sbuf_addc(out, ' ');
			break;
		case '}':
		case ']':
			if (need_indent) {
				/* "{}" and "[]" stay on their line */
				need_indent = false;
			} else if (indent) {
				depth--;
				newline(out, indent, depth);
			}
			sbuf_addc(out, ch);
			break;
		default:
			sbuf_addc(out, ch);
		}
	}
	return 0;
}

/* ---- inspect.Inspect --------------------------------------------------------------------------- */

int inspect_run(struct cli *c, char *const *refs, int n, const char *format, inspect_get_fn get,
		void *data)
{
	_cleanup_tmpl_ struct tmpl *t = NULL;
	_cleanup_sbuf_ struct sbuf out = SBUF_INIT, errs = SBUF_INIT, raws = SBUF_INIT;
	bool templ = format && *format && strcmp(format, "json") != 0;
	size_t found = 0;
	char *err = NULL;

	if (templ && tmpl_parse("", format, NULL, &t, &err) < 0) {
		err_printf("template parsing error: %s\n", err);
		free(err);
		return 64;
	}
	for (int i = 0; i < n; i++) {
		struct inspect_obj o = {0};
		if (get(c, refs[i], data, &o, &err) < 0) {
			sbuf_printf(&errs, "%s%s", errs.len ? "\n" : "", err);
			free(err);
			continue;
		}
		if (!templ) {
			sbuf_adds(&raws, found ? "," : "[");
			sbuf_add(&raws, o.raw, o.len);
			found++;
			inspect_obj_release(&o);
			continue;
		}
		/* the typed object first, then the raw JSON (missingkey=error) when there is one */
		_cleanup_sbuf_ struct sbuf one = SBUF_INIT;
		char *terr = NULL;
		int r = tmpl_exec(t,
				  o.schema ? tval_json(o.json, o.schema) : tval_json(o.json, NULL),
				  TMPL_FUNCS_BASIC, &one, &terr);
		if (r == 0 || !o.typed_only)
			free(terr);
		if (r < 0 && !o.typed_only) {
			sbuf_reset(&one);
			r = tmpl_exec(t, tval_raw(o.json), TMPL_FUNCS_BASIC, &one, &terr);
		}
		if (r < 0) {
			sbuf_printf(&errs, "%stemplate parsing error: %s", errs.len ? "\n" : "",
				    terr);
			free(terr);
		} else {
			sbuf_add(&out, one.p, one.len);
			sbuf_addc(&out, '\n');
		}
		inspect_obj_release(&o);
	}
	if (!templ) {
		if (!found) {
			out_puts("[]\n");
		} else {
			sbuf_addc(&raws, ']');
			if (json_reformat(&out, raws.p, raws.len,
					  format && *format ? NULL : "    ") < 0)
				err_printf("invalid JSON from the daemon\n");
			sbuf_addc(&out, '\n');
			out_write(out.p, out.len);
		}
	} else if (out.len == 0) {
		out_puts("\n");
	} else {
		out_write(out.p, out.len);
	}
	if (errs.len) {
		err_printf("%s\n", sbuf_str(&errs));
		return 1;
	}
	(void)c;
	return 0;
}
