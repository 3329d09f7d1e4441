/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berthd: flags and configuration, the pid file, the API sockets, then one thread accepting
 * connections (one thread per connection after that) while the main thread waits for signals:
 * SIGHUP reloads what can be reloaded, SIGTERM/SIGINT stop serving and exit.  Containers, once
 * there are any, keep running: they belong to their shims.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "base/banned.h"

static int saved_argc;
static char **saved_argv;

/* The pid file, locked for as long as we run: a second berthd finds it locked and stops. */
static int take_pidfile(const char *path, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	char buf[32];
	int n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return berth_error_sys(err, errno, "open pid file '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		_cleanup_free_ char *old = NULL;
		size_t len;
		if (berth_read_fd(fd, 64, &old, &len, NULL) == 0)
			while (len && old[len - 1] == '\n')
				old[--len] = '\0';
		return berth_error_set(err, EBUSY,
				       "pid file found, ensure berthd is not running or delete %s "
				       "(held by pid %s)",
				       path, old && *old ? old : "?");
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return berth_error_sys(err, errno, "write pid file '%s'", path);
	return TAKE_FD(fd);
}

static void server_log(void *data, enum berth_log_level level, const char *msg)
{
	static const int map[] = {
		[BERTH_LOG_ERROR] = DLOG_ERROR,
		[BERTH_LOG_WARNING] = DLOG_WARN,
		[BERTH_LOG_INFO] = DLOG_INFO,
		[BERTH_LOG_DEBUG] = DLOG_DEBUG,
	};

	daemon_log(map[level], "api: %s", msg);
}

static int env_ms(const char *name)
{
	int64_t v;
	const char *s = getenv(name);

	if (!s || berth_parse_int64(s, 1, 24 * 3600 * 1000, &v) < 0)
		return 0;
	return (int)v;
}

struct accept_thread {
	struct berthd *d;
	int error;
};

static void *accept_main(void *arg)
{
	struct accept_thread *t = arg;
	_cleanup_error_ struct berth_error *e = NULL;

	if (berth_http_server_run(t->d->server, &e) < 0) {
		log_error("serving the API failed: %s", e ? e->msg : "?");
		t->error = 1;
		kill(getpid(), SIGTERM); /* the main thread waits for signals */
	}
	return NULL;
}

static void json_list_attr(struct berth_key_value *kv, const char *key, char *const *v)
{
	_cleanup_json_ json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	kv->key = (char *)key;
	kv->value = a ? json_dumps(a, JSON_COMPACT) : NULL;
}

/* SIGHUP: read flags and file again; apply what can change while running. */
static void reload(struct berthd *d)
{
	struct daemon_config fresh;
	_cleanup_error_ struct berth_error *e = NULL;
	int r;

	daemon_notify("RELOADING=1");
	r = daemon_config_parse_args(saved_argc, saved_argv, &fresh, &e);
	if (r == 0)
		r = daemon_config_load_file(&fresh, &e);
	if (r != 0) {
		log_error("reload: %s (configuration unchanged)", e ? e->msg : "?");
		daemon_config_release(&fresh);
		daemon_notify("READY=1");
		return;
	}

	pthread_mutex_lock(&d->lock);
	d->config.log_level = fresh.log_level;
	d->config.live_restore = fresh.live_restore;
	berth_strv_free(d->config.insecure_registries);
	d->config.insecure_registries = TAKE_PTR(fresh.insecure_registries);
	berth_strv_free(d->config.registry_mirrors);
	d->config.registry_mirrors = TAKE_PTR(fresh.registry_mirrors);
	daemon_log_set_level(fresh.log_level);

	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	struct berth_key_value attrs[6] = {
		{"debug", fresh.log_level == DLOG_DEBUG ? "true" : "false"},
		{"live-restore", fresh.live_restore ? "true" : "false"},
		{"log-level", (char *)daemon_log_level_name(fresh.log_level)},
		{"name", host},
	};
	json_list_attr(&attrs[4], "insecure-registries", d->config.insecure_registries);
	json_list_attr(&attrs[5], "registry-mirrors", d->config.registry_mirrors);
	daemon_event_emit_locked(d, "daemon", "reload", d->id, attrs, ARRAY_SIZE(attrs));
	pthread_mutex_unlock(&d->lock);
	free(attrs[4].value);
	free(attrs[5].value);

	log_info("reloaded the configuration: log level %s",
		 daemon_log_level_name(fresh.log_level));
	daemon_config_release(&fresh);
	daemon_notify("READY=1");
}

static int run(struct berthd *d, struct daemon_listener *listeners, size_t n_listeners,
	       struct berth_error **err)
{
	struct accept_thread at = {.d = d};
	pthread_t thread;
	sigset_t set;
	int r;

	for (size_t i = 0; i < n_listeners; i++) {
		r = berth_http_server_add_listener(d->server, listeners[i].fd, err);
		listeners[i].fd = -EBADF; /* the server's now */
		if (r < 0)
			return r;
	}
	r = pthread_create(&thread, NULL, accept_main, &at);
	if (r != 0)
		return berth_error_sys(err, r, "start the accepting thread");
	for (size_t i = 0; i < n_listeners; i++)
		log_info("API listen on %s", listeners[i].name);
	daemon_notify("READY=1\nSTATUS=serving the API\nMAINPID=%d", (int)getpid());

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (sig == SIGHUP) {
			reload(d);
			continue;
		}
		log_info("processing signal '%s'", berth_signal_name(sig));
		break;
	}

	daemon_notify("STOPPING=1");
	berth_http_server_stop(d->server);
	pthread_join(thread, NULL);
	daemon_events_shutdown(d); /* followers end; no restart policy starts anything now */
	if (!d->config.live_restore)
		daemon_containers_shutdown(d);
	berth_http_server_free(d->server, 5000);
	d->server = NULL;
	return at.error ? berth_error_set(err, EIO, "the API server failed") : 0;
}

int main(int argc, char **argv)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_config config;
	struct berthd d;
	struct daemon_listener *listeners = NULL;
	size_t n_listeners = 0;
	_cleanup_close_ int pidfd = -EBADF;
	sigset_t set;
	int r;

	saved_argc = argc;
	saved_argv = argv;
	signal(SIGPIPE, SIG_IGN);
	/* jansson seeds its hash function on first use; do it before there are threads */
	json_object_seed(0);
	/* Signals are taken by sigwaitinfo() in the main thread: block them before any thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	r = daemon_config_parse_args(argc, argv, &config, &e);
	if (r == 1) { /* --help, --version */
		daemon_config_release(&config);
		return 0;
	}
	if (r == 0)
		r = daemon_config_load_file(&config, &e);
	if (r < 0) {
		fprintf(stderr, "berthd: %s\n", e ? e->msg : "bad arguments");
		daemon_config_release(&config);
		return 1;
	}
	if (!config.hosts && berth_strv_push(&config.hosts, "unix:///run/berth/berth.sock") < 0)
		return 1;
	if (!config.pidfile && asprintf(&config.pidfile, "%s/berthd.pid", config.exec_root) < 0)
		return 1;
	daemon_log_set_level(config.log_level);
	if (geteuid() != 0) {
		log_error("berthd needs to be started with root privileges");
		daemon_config_release(&config);
		return 1;
	}

	if (berth_mkdir_p(config.data_root, 0711, &e) < 0 ||
	    berth_mkdir_p(config.exec_root, 0700, &e) < 0) {
		log_error("%s", e->msg);
		daemon_config_release(&config);
		return 1;
	}
	pidfd = take_pidfile(config.pidfile, &e);
	if (pidfd < 0) {
		log_error("%s", e->msg);
		daemon_config_release(&config);
		return 1;
	}
	r = daemon_state_init(&d, &config, &e);
	if (r < 0) {
		log_error("%s", e->msg);
		unlink(d.config.pidfile);
		daemon_state_release(&d);
		return 1;
	}
	log_info("starting berthd %s (data root %s, exec root %s, cgroup v%d)", BERTH_VERSION,
		 d.config.data_root, d.config.exec_root, d.cgroup_version);

	char server_header[64];
	snprintf(server_header, sizeof(server_header), "Server: Berth/%s (linux)", BERTH_VERSION);
	char *const headers[] = {server_header, "Api-Version: " BERTH_API_VERSION_MAX_STRING,
				 "Ostype: linux", "Docker-Experimental: false", NULL};
	struct berth_http_server_config sc = {
		.handler = berth_api_router_serve,
		/* debug lines too: daemon_log filters by the level in force, which a reload changes */
		.log = {.fn = server_log, .debug = true},
		.default_headers = headers,
		.header_timeout_ms = env_ms("BERTHD_HEADER_TIMEOUT_MS"),
		.idle_timeout_ms = env_ms("BERTHD_IDLE_TIMEOUT_MS"),
	};
	r = daemon_images_open(&d, &e);
	if (r < 0) {
		log_error("%s", e->msg);
		unlink(d.config.pidfile);
		daemon_state_release(&d);
		return 1;
	}
	r = daemon_containers_open(&d, &e);
	if (r < 0) {
		log_error("%s", e->msg);
		daemon_images_close(&d);
		unlink(d.config.pidfile);
		daemon_state_release(&d);
		return 1;
	}
	/* the containers' layers are known from here on (their table is loaded before this) */
	daemon_images_gc(&d);
	r = daemon_volumes_open(&d, &e);
	if (r == 0)
		r = daemon_networks_open(&d, &e);
	/* after the networks: a restored container's endpoints are checked against them */
	if (r == 0)
		r = daemon_containers_restore(&d, &e);
	if (r < 0) {
		log_error("%s", e->msg);
		daemon_containers_close(&d);
		daemon_networks_close(&d);
		daemon_volumes_close(&d);
		daemon_images_close(&d);
		unlink(d.config.pidfile);
		daemon_state_release(&d);
		return 1;
	}

	r = berth_api_router_new(&d.router, &e);
	if (r == 0)
		r = daemon_routes_system(&d, &e);
	if (r == 0)
		r = daemon_routes_images(&d, &e);
	if (r == 0)
		r = daemon_routes_registry(&d, &e);
	if (r == 0)
		r = daemon_routes_containers(&d, &e);
	if (r == 0)
		r = daemon_routes_networks(&d, &e);
	if (r == 0)
		r = daemon_routes_volumes(&d, &e);
	if (r == 0)
		r = daemon_routes_build(&d, &e);
	sc.userdata = d.router;
	if (r == 0)
		r = berth_http_server_new(&sc, &d.server, &e);
	if (r == 0)
		r = daemon_listen(d.config.hosts, &listeners, &n_listeners, &e);
	if (r == 0)
		r = run(&d, listeners, n_listeners, &e);
	if (r < 0)
		log_error("%s", e ? e->msg : "?");

	daemon_listeners_free(listeners, n_listeners, true);
	berth_http_server_free(d.server, 5000);
	berth_api_router_free(d.router);
	daemon_containers_close(&d);
	daemon_images_close(&d);
	daemon_networks_close(&d);
	daemon_volumes_close(&d);
	unlink(d.config.pidfile);
	log_info("berthd stopped");
	daemon_state_release(&d);
	return r < 0 ? 1 : 0;
}
