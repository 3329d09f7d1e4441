/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth login, berth logout, and the credentials pull and push send: docker's config file
 * (<config dir>/config.json) "auths" map, each entry {"auth": base64("user:password")}, keyed by
 * the registry's address ("https://index.docker.io/v1/" for Docker Hub).  login asks berthd to
 * check the credentials (POST /auth) and only then writes the file, as docker does: the whole
 * file again, to a temporary file in the same directory renamed over it, 0600 when new (the old
 * file's mode otherwise).  Credential helpers (credsStore, credHelpers) are not run: berth reads
 * and writes the file only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "base/banned.h"

#define INDEX_SERVER "https://index.docker.io/v1/"

/* ---- base64 ------------------------------------------------------------------------------------ */

static void b64_encode(struct sbuf *out, const unsigned char *p, size_t n, bool url)
{
	const char *tab = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			      : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		sbuf_addc(out, tab[(v >> 18) & 63]);
		sbuf_addc(out, tab[(v >> 12) & 63]);
		sbuf_addc(out, i + 1 < n ? tab[(v >> 6) & 63] : '=');
		sbuf_addc(out, i + 2 < n ? tab[v & 63] : '=');
	}
}

/* standard base64, padding optional; -1 on a bad character */
static int b64_decode(const char *s, struct sbuf *out)
{
	unsigned v = 0;
	int bits = 0;

	for (; *s && *s != '='; s++) {
		const char *tab =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *q = strchr(tab, *s);
		if (!q)
			return -1;
		v = (v << 6) | (unsigned)(q - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sbuf_addc(out, (char)((v >> bits) & 0xff));
		}
	}
	return 0;
}

/* ---- the config file ----------------------------------------------------------------------------- */

/* credentials.ConvertToHostname: no scheme, nothing after the first "/" */
static char *to_hostname(const char *addr)
{
	if (berth_str_has_prefix(addr, "http://"))
		addr += 7;
	else if (berth_str_has_prefix(addr, "https://"))
		addr += 8;
	return xstrndup(addr, strcspn(addr, "/"));
}

/* the auths entry for addr: by its key, else a key whose hostname is addr (docker's fileStore) */
static json_t *auth_entry(json_t *auths, const char *addr, const char **ret_key)
{
	const char *key;
	json_t *v;

	if ((v = json_object_get(auths, addr))) {
		*ret_key = addr;
		return v;
	}
	json_object_foreach (auths, key, v) {
		_cleanup_free_ char *h = to_hostname(key);
		if (strcmp(h, addr) == 0) {
			*ret_key = key;
			return v;
		}
	}
	return NULL;
}

char *registry_auth_header(struct cli *c, const char *domain)
{
	const char *addr = strcmp(domain, "docker.io") == 0 ? INDEX_SERVER : domain, *key = NULL;
	json_t *entry = auth_entry(json_object_get(cli_config_file(c), "auths"), addr, &key);
	_cleanup_json_ json_t *ac = json_object();
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT, raw = SBUF_INIT;
	_cleanup_free_ char *s = NULL;

	/* registry.AuthConfig in Go's field order, empty fields left out */
	if (entry) {
		const char *auth = json_string_value(json_object_get(entry, "auth"));
		const char *user = json_string_value(json_object_get(entry, "username"));
		const char *pass = json_string_value(json_object_get(entry, "password"));
		const char *tok = json_string_value(json_object_get(entry, "identitytoken"));
		if (auth && *auth && b64_decode(auth, &raw) == 0) {
			const char *r = sbuf_str(&raw), *colon = strchr(r, ':');
			if (colon) {
				_cleanup_free_ char *u = xstrndup(r, (size_t)(colon - r));
				user = NULL;
				pass = NULL;
				json_object_set_new(ac, "username", json_string(u));
				json_object_set_new(ac, "password", json_string(colon + 1));
			}
		}
		if (user && *user)
			json_object_set_new(ac, "username", json_string(user));
		if (pass && *pass)
			json_object_set_new(ac, "password", json_string(pass));
		json_object_set_new(ac, "serveraddress", json_string(key));
		if (tok && *tok)
			json_object_set_new(ac, "identitytoken", json_string(tok));
	}
	s = json_dumps(ac, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		cli_oom();
	sbuf_adds(&b, "X-Registry-Auth: ");
	b64_encode(&b, (const unsigned char *)s, strlen(s), true);
	return xstrdup(sbuf_str(&b));
}

static char *config_path(struct cli *c)
{
	const char *env = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	if (c->config_opt && *c->config_opt)
		return xasprintf("%s/config.json", c->config_opt);
	if (env && *env)
		return xasprintf("%s/config.json", env);
	return xasprintf("%s/.docker/config.json", home && *home ? home : "/root");
}

/* Go's json.MarshalIndent(v, "", "\t"): jansson's one-space indent made tabs */
static void indent_tabs(struct sbuf *out, const char *s)
{
	bool bol = true;

	for (; *s; s++) {
		if (bol && *s == ' ') {
			sbuf_addc(out, '\t');
			continue;
		}
		bol = *s == '\n';
		sbuf_addc(out, *s);
	}
}

/* configfile.Save: a temporary file in the directory, renamed over the file */
static int save_config(struct cli *c, json_t *cfg)
{
	_cleanup_free_ char *path = config_path(c), *dir = NULL, *tmp = NULL, *s = NULL;
	_cleanup_sbuf_ struct sbuf text = SBUF_INIT;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	char *slash;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return cli_errorf(c, "mkdir %s: %s", dir, strerror(errno));
	s = json_dumps(cfg, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!s)
		cli_oom();
	indent_tabs(&text, s);
	tmp = xasprintf("%s/config.json%u", dir, (unsigned)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_errorf(c, "open %s: %s", tmp, strerror(errno));
	if (berth_write_all(fd, text.p, text.len) < 0 || fsync(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return cli_errorf(c, "write %s: %s", tmp, strerror(e));
	}
	/* the old file's permissions stay */
	if (stat(path, &st) == 0)
		fchmod(fd, st.st_mode & 07777);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return cli_errorf(c, "rename %s %s: %s", tmp, path, strerror(e));
	}
	return 0;
}

/* ---- login ------------------------------------------------------------------------------------- */

/* one line from fd 0, without its newline; NULL at EOF with nothing read */
static char *read_line(void)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	bool any = false;
	char ch;
	ssize_t n;

	while ((n = read(STDIN_FILENO, &ch, 1)) == 1 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		any = true;
		if (ch == '\n')
			break;
		sbuf_addc(&b, ch);
	}
	if (!any)
		return NULL;
	if (b.len && b.p[b.len - 1] == '\r')
		b.p[--b.len] = '\0';
	return xstrdup(sbuf_str(&b));
}

/* The config file's user and password for server ("" when none), malloc'd. */
static void stored_credentials(struct cli *c, const char *server, char **ret_user, char **ret_pass)
{
	const char *key = NULL;
	json_t *entry = auth_entry(json_object_get(cli_config_file(c), "auths"), server, &key);
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	_cleanup_sbuf_ struct sbuf raw = SBUF_INIT;

	*ret_user = NULL;
	*ret_pass = NULL;
	if (auth && *auth && b64_decode(auth, &raw) == 0) {
		const char *r = sbuf_str(&raw), *colon = strchr(r, ':');
		if (colon) {
			*ret_user = xstrndup(r, (size_t)(colon - r));
			*ret_pass = xstrdup(colon + 1);
		}
	}
}

/*
 * docker's loginWithStoredCredentials: login without a user or password tries the stored ones
 * first.  Returns the exit code, or -1 when there are none or they failed (then: the prompt).
 */
static int login_stored(struct cli *c, const char *server)
{
	_cleanup_free_ char *user = NULL, *pass = NULL;
	_cleanup_json_ json_t *body = NULL;
	struct cli_response r;

	stored_credentials(c, server, &user, &pass);
	if (!user || !*user || !pass || !*pass)
		return -1;
	err_printf(
		"Authenticating with existing credentials... [Username: %s]\n\n Info -> To login "
		"with a different account, run '%s logout' followed by '%s login'\n\n\n",
		user, CLI_NAME, CLI_NAME);
	body = json_pack("{s:s,s:s,s:s}", "username", user, "password", pass, "serveraddress",
			 server);
	if (cli_call(c, "POST", "/auth", body, &r) < 0) {
		if (c->err_status == 401)
			err_printf("Stored credentials invalid or expired\n");
		else
			err_printf("Login did not succeed, error: %s\n", c->err);
		return -1;
	}
	const char *status = json_string_value(json_object_get(r.json, "Status"));
	if (status && *status)
		out_printf("%s\n", status);
	cli_response_release(&r);
	return 0;
}

static int run_login(struct cli *c, struct cli_args *a)
{
	const char *user = flag_str(a, "username"), *pass = flag_str(a, "password");
	const char *server = a->argc ? a->argv[0] : NULL;
	_cleanup_free_ char *stdin_pass = NULL, *asked_user = NULL, *asked_pass = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *body = NULL;
	_cleanup_sbuf_ struct sbuf up = SBUF_INIT, enc = SBUF_INIT;
	struct cli_response r;

	if (pass && *pass && flag_bool(a, "password-stdin")) {
		err_printf("conflicting options: cannot specify both --password and "
			   "--password-stdin\n");
		return 1;
	}
	if (pass && *pass)
		err_printf("WARNING! Using --password via the CLI is insecure. Use "
			   "--password-stdin.\n");
	if (flag_bool(a, "password-stdin")) {
		_cleanup_sbuf_ struct sbuf in = SBUF_INIT;
		char buf[4096];
		ssize_t n;
		if (!user || !*user) {
			err_printf("the --password-stdin option requires --username to be set\n");
			return 1;
		}
		while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			if (in.len + (size_t)n > (1u << 20)) {
				err_printf("the password on stdin is longer than 1 MiB\n");
				return 1;
			}
			sbuf_add(&in, buf, (size_t)n);
		}
		if (in.len && in.p[in.len - 1] == '\n')
			in.p[--in.len] = '\0';
		if (in.len && in.p[in.len - 1] == '\r')
			in.p[--in.len] = '\0';
		stdin_pass = xstrdup(sbuf_str(&in));
		pass = stdin_pass;
	}
	if (!server || !*server || strcmp(server, "docker.io") == 0)
		server = INDEX_SERVER;
	if ((!user || !*user) && (!pass || !*pass)) {
		int done = login_stored(c, server);
		if (done >= 0)
			return done;
	}
	if (!user || !*user || !pass || !*pass) {
		/* docker prompts on a terminal only */
		if (!is_terminal(STDIN_FILENO)) {
			err_printf("Error: Cannot perform an interactive login from a non TTY "
				   "device\n");
			return 1;
		}
		if (!user || !*user) {
			out_printf("Username: ");
			out_flush();
			asked_user = read_line();
			user = asked_user ? asked_user : "";
			if (!*user) {
				err_printf("Error: Non-null Username Required\n");
				return 1;
			}
		}
		if (!pass || !*pass) {
			struct termios old, raw;
			bool echo_off = tcgetattr(STDIN_FILENO, &old) == 0;
			out_printf("Password: ");
			out_flush();
			if (echo_off) {
				raw = old;
				raw.c_lflag &= ~(tcflag_t)ECHO;
				tcsetattr(STDIN_FILENO, TCSANOW, &raw);
			}
			asked_pass = read_line();
			if (echo_off)
				tcsetattr(STDIN_FILENO, TCSANOW, &old);
			out_puts("\n");
			pass = asked_pass ? asked_pass : "";
			if (!*pass) {
				err_printf("Error: Password Required\n");
				return 1;
			}
		}
	}
	body = json_pack("{s:s,s:s,s:s}", "username", user, "password", pass, "serveraddress",
			 server);
	if (cli_call(c, "POST", "/auth", body, &r) < 0)
		return cli_fail(c, 1);

	/* store: {"auth": base64(user:password)}, or the identity token the daemon gave */
	json_t *cfg = cli_config_file(c);
	_cleanup_free_ char *file = config_path(c);
	/* a file berth cannot read is not replaced by one holding only the credentials */
	if (!cfg && access(file, F_OK) == 0) {
		err_printf("error saving credentials: '%s' is not a JSON object berth can read: "
			   "left as it is\n",
			   file);
		cli_response_release(&r);
		return 1;
	}
	_cleanup_json_ json_t *owned = cfg ? json_incref(cfg) : json_object();
	json_t *auths = json_object_get(owned, "auths");
	const char *tok = json_string_value(json_object_get(r.json, "IdentityToken"));
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(owned, "auths", auths);
	}
	sbuf_printf(&up, "%s:%s", user, tok && *tok ? "" : pass);
	b64_encode(&enc, (const unsigned char *)up.p, up.len, false);
	json_t *old = json_object_get(auths, server);
	bool unchanged =
		!(tok && *tok) && json_object_size(old) == 1 &&
		berth_streq(json_string_value(json_object_get(old, "auth")), sbuf_str(&enc));
	/* docker leaves the file alone when it already holds these credentials */
	if (!unchanged) {
		json_t *entry = json_pack("{s:s}", "auth", sbuf_str(&enc));
		if (tok && *tok)
			json_object_set_new(entry, "identitytoken", json_string(tok));
		json_object_set_new(auths, server, entry);
		if (save_config(c, owned) < 0) {
			char *e = c->err;
			c->err = NULL;
			cli_errorf(c, "error saving credentials: %s", e);
			free(e);
			cli_response_release(&r);
			return cli_fail(c, 1);
		}
		path = config_path(c);
		err_printf("\nWARNING! Your credentials are stored unencrypted in '%s'.\n"
			   "Configure a credential helper to remove this warning. See\n"
			   "https://docs.docker.com/go/credential-store/\n\n",
			   path);
	}
	const char *status = json_string_value(json_object_get(r.json, "Status"));
	if (status && *status)
		out_printf("%s\n", status);
	cli_response_release(&r);
	return 0;
}

static const struct cli_flag login_flags[] = {
	{"password", 'p', FK_STRING, "string", NULL, "The password or token"},
	{"password-stdin", 0, FK_BOOL, NULL, NULL, "Read the password or token from stdin"},
	{"username", 'u', FK_STRING, "string", NULL, "The user name"},
};

const struct cli_cmd cmd_login = {
	.name = "login",
	.use = "[OPTIONS] [SERVER]",
	.short_desc = "Authenticate to a registry",
	.long_desc =
		"Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.",
	.flags = login_flags,
	.n_flags = ARRAY_SIZE(login_flags),
	.args = ARGS_MAX,
	.max_args = 1,
	.run = run_login,
	.top = 8,
};

/* ---- logout ------------------------------------------------------------------------------------ */

static int run_logout(struct cli *c, struct cli_args *a)
{
	const char *server = a->argc && *a->argv[0] ? a->argv[0] : NULL;
	_cleanup_free_ char *host = server ? to_hostname(server) : xstrdup(INDEX_SERVER);
	json_t *cfg = cli_config_file(c);
	json_t *auths = json_object_get(cfg, "auths");
	bool removed = false;

	out_printf("Removing login credentials for %s\n", host);
	/* the forms a registry may have been saved under */
	_cleanup_free_ char *h1 = xasprintf("http://%s", host), *h2 = xasprintf("https://%s", host);
	const char *keys[] = {server ? server : INDEX_SERVER, host, h1, h2};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (json_object_del(auths, keys[i]) == 0)
			removed = true;
	if (removed && save_config(c, cfg) < 0) {
		err_printf("WARNING: could not erase credentials:\n");
		out_printf("%s: %s\n", server ? server : INDEX_SERVER, c->err);
	}
	return 0;
}

const struct cli_cmd cmd_logout = {
	.name = "logout",
	.use = "[SERVER]",
	.short_desc = "Log out from a registry",
	.long_desc =
		"Log out from a registry.\nIf no server is specified, the default is defined by "
		"the daemon.",
	.args = ARGS_MAX,
	.max_args = 1,
	.run = run_logout,
	.top = 9,
};
