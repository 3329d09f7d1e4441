/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth events: the daemon's events as they happen (or between --since and --until), one per
 * line in docker's layout or through --format, until the stream ends or the user interrupts.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "units.h"
#include "base/banned.h"

static const struct tschema_field actor_fields[] = {
	{"ID", NULL, 's', false, NULL},
	{"Attributes", NULL, 'm', false, NULL},
};
static const struct tschema actor_schema = {"events.Actor", actor_fields, 2, false};

static const struct tschema_field message_fields[] = {
	{"Status", "status", 's', true, NULL},	   {"ID", "id", 's', true, NULL},
	{"From", "from", 's', true, NULL},	   {"Type", NULL, 's', false, NULL},
	{"Action", NULL, 's', false, NULL},	   {"Actor", NULL, 'o', false, &actor_schema},
	{"Scope", "scope", 's', false, NULL},	   {"Time", "time", 'i', true, NULL},
	{"TimeNano", "timeNano", 'i', true, NULL},
};
const struct tschema message_schema = {"events.Message", message_fields, ARRAY_SIZE(message_fields),
				       false};

static struct tval message_tval(json_t *j)
{
	return (struct tval){.j = j, .sch = &message_schema, .kind = 'p'};
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* docker's prettyPrintEvent */
static void pretty_event(struct sbuf *out, json_t *ev)
{
	json_int_t nano = json_integer_value(json_object_get(ev, "timeNano"));
	json_int_t secs = json_integer_value(json_object_get(ev, "time"));
	json_t *actor = json_object_get(ev, "Actor");
	json_t *attrs = json_object_get(actor, "Attributes");
	const char *s;

	if (nano) {
		go_time_rfc3339nano_fixed(out, nano);
		sbuf_addc(out, ' ');
	} else if (secs) {
		go_time_rfc3339nano_fixed(out, secs * 1000000000);
		sbuf_addc(out, ' ');
	}
	s = json_string_value(json_object_get(ev, "Type"));
	sbuf_printf(out, "%s ", s ? s : "");
	s = json_string_value(json_object_get(ev, "Action"));
	sbuf_printf(out, "%s ", s ? s : "");
	s = json_string_value(json_object_get(actor, "ID"));
	sbuf_adds(out, s ? s : "");
	if (json_object_size(attrs)) {
		size_t n = 0;
		const char *key;
		json_t *v;
		const char **keys = xcalloc(json_object_size(attrs), sizeof(*keys));
		json_object_foreach (attrs, key, v)
			keys[n++] = key;
		qsort(keys, n, sizeof(*keys), cmp_str);
		sbuf_adds(out, " (");
		for (size_t i = 0; i < n; i++) {
			s = json_string_value(json_object_get(attrs, keys[i]));
			sbuf_printf(out, "%s%s=%s", i ? ", " : "", keys[i], s ? s : "");
		}
		sbuf_addc(out, ')');
		free(keys);
	}
	sbuf_addc(out, '\n');
}

static int run_events(struct cli *c, struct cli_args *a)
{
	const char *format = flag_str(a, "format");
	const char *since = flag_str(a, "since"), *until = flag_str(a, "until");
	_cleanup_tmpl_ struct tmpl *t = NULL;
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT, line = SBUF_INIT;
	_cleanup_free_ char *filters = filters_json(flag_get(a, "filter"));
	char *err = NULL;
	char sep = '?';

	if (format && *format) {
		if (strcmp(format, "json") == 0)
			format = "{{json .}}";
		if (tmpl_parse("", format, NULL, &t, &err) < 0) {
			err_printf("Error parsing format: %s\n", err);
			free(err);
			return 64;
		}
		/* run it once on an empty message, so a bad field fails now */
		_cleanup_json_ json_t *empty = json_object();
		_cleanup_sbuf_ struct sbuf sink = SBUF_INIT;
		if (tmpl_exec(t, message_tval(empty), TMPL_FUNCS_BASIC, &sink, &err) < 0) {
			err_printf("Error parsing format: %s\n", err);
			free(err);
			return 64;
		}
	}

	sbuf_adds(&target, "/events");
	int64_t now = now_ns();
	const char *names[2] = {"since", "until"};
	const char *values[2] = {since, until};
	for (int i = 0; i < 2; i++) {
		_cleanup_free_ char *ts = NULL;
		if (!values[i] || !*values[i])
			continue;
		if (docker_timestamp(values[i], now, &ts, &err) < 0) {
			err_printf("%s\n", err);
			free(err);
			return 1;
		}
		sbuf_printf(&target, "%c%s=", sep, names[i]);
		url_escape(&target, ts);
		sep = '&';
	}
	if (filters) {
		sbuf_printf(&target, "%cfilters=", sep);
		url_escape(&target, filters);
	}

	if (cli_call_stream(c, "GET", sbuf_str(&target), NULL) < 0)
		return cli_fail(c, 1);

	/* one JSON object per line; a line may arrive in pieces */
	char buf[16384];
	for (;;) {
		ssize_t n = cli_stream_read(c, buf, sizeof(buf));
		if (n < 0)
			return cli_fail(c, 1);
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				sbuf_addc(&line, buf[i]);
				continue;
			}
			if (line.len == 0)
				continue;
			json_error_t jerr;
			_cleanup_json_ json_t *ev = json_loadb(line.p, line.len, 0, &jerr);
			sbuf_reset(&line);
			if (!ev) {
				err_printf("invalid event from the daemon: %s\n", jerr.text);
				return 1;
			}
			_cleanup_sbuf_ struct sbuf out = SBUF_INIT;
			if (t) {
				int r = tmpl_exec(t, message_tval(ev), TMPL_FUNCS_BASIC, &out,
						  &err);
				sbuf_addc(&out, '\n');
				out_write(sbuf_str(&out), out.len);
				if (r < 0) {
					err_printf("%s\n", err);
					free(err);
					return 1;
				}
			} else {
				pretty_event(&out, ev);
				out_write(sbuf_str(&out), out.len);
			}
			out_flush();
		}
	}
	return 0;
}

static const struct cli_flag events_flags[] = {
	{"filter", 'f', FK_LIST, "filter", NULL, "Filter the output (key=value)", 0, check_filter},
	{"format", 0, FK_STRING, "string", NULL, FORMAT_HELP_INSPECT},
	{"since", 0, FK_STRING, "string", NULL, "Show the events since this time"},
	{"until", 0, FK_STRING, "string", NULL, "Stop at this time"},
};

const struct cli_cmd cmd_events = {
	.name = "events",
	.use = "[OPTIONS]",
	.short_desc = "Follow the daemon's events",
	.aliases_line = "berth system events, berth events",
	.flags = events_flags,
	.n_flags = ARRAY_SIZE(events_flags),
	.args = ARGS_NONE,
	.run = run_events,
};
CLI_CMD_TWIN(cmd_system_events, cmd_events);
