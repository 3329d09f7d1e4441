/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berthd's side of lib/registry: a client made from the configuration in force (daemon.json's
 * insecure-registries and registry-mirrors, which SIGHUP may change; certs.d beside the config
 * file), Docker's X-Registry-Auth
 * header, and POST /auth (docker login).  The pull and push endpoints are in images-io.c, with
 * the other streaming image endpoints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "images-internal.h"
#include "registry/registry.h"

#include "base/banned.h"

int daemon_registry_client(struct berthd *d, struct berth_registry **ret, struct berth_error **err)
{
	_cleanup_strv_ char **insecure = NULL, **mirrors = NULL;
	_cleanup_free_ char *certs = NULL;
	struct berth_registry_options o = {0};
	int r = 0;

	pthread_mutex_lock(&d->lock);
	/* dockerd's /etc/docker/certs.d: certs.d beside the config file (/etc/berth/certs.d) */
	const char *cf = d->config.config_file, *slash = cf ? strrchr(cf, '/') : NULL;
	if (asprintf(&certs, "%.*s/certs.d", slash ? (int)(slash - cf) : 1,
		     slash ? (slash == cf ? "/" : cf) : ".") < 0)
		certs = NULL;
	insecure = calloc(1, sizeof(char *));
	mirrors = calloc(1, sizeof(char *));
	if (!insecure || !mirrors)
		r = -ENOMEM;
	for (size_t i = 0;
	     r == 0 && d->config.insecure_registries && d->config.insecure_registries[i]; i++)
		r = berth_strv_push(&insecure, d->config.insecure_registries[i]);
	for (size_t i = 0; r == 0 && d->config.registry_mirrors && d->config.registry_mirrors[i];
	     i++)
		r = berth_strv_push(&mirrors, d->config.registry_mirrors[i]);
	pthread_mutex_unlock(&d->lock);
	if (r < 0 || !certs)
		return berth_error_set(err, ENOMEM, "out of memory");
	o.certs_dir = certs;
	o.insecure = insecure;
	o.mirrors = mirrors;
	return berth_registry_new(&o, ret, err);
}

int daemon_registry_auth(struct berth_http_request *req, struct berth_registry_auth *ret,
			 json_t **ret_json, struct berth_error **err)
{
	return berth_registry_auth_decode(berth_http_header(req, "X-Registry-Auth"), ret, ret_json,
					  err);
}

/* POST /auth: {"username","password","serveraddress",...} -> {"Status":"Login Succeeded"}. */
static void auth(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_json_ json_t *body = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	struct berth_registry *reg = NULL;
	struct berth_registry_auth a = {0};
	const char *server;
	int r;

	if (berth_http_read_json(req, 64 * 1024, &body) < 0)
		return;
	if (body && !json_is_object(body)) {
		berth_http_respond_error(req, 400, "invalid JSON: expected an object");
		return;
	}
	a.username = json_string_value(json_object_get(body, "username"));
	a.password = json_string_value(json_object_get(body, "password"));
	a.identity_token = json_string_value(json_object_get(body, "identitytoken"));
	a.registry_token = json_string_value(json_object_get(body, "registrytoken"));
	server = json_string_value(json_object_get(body, "serveraddress"));
	r = daemon_registry_client(d, &reg, &e);
	if (r == 0)
		r = berth_registry_login(reg, server, &a, &e);
	berth_registry_free(reg);
	if (r < 0) {
		/* dockerd: a refusal is 401 (errdefs.Unauthorized), the rest 500 */
		berth_http_respond_error(req, e && e->code == EKEYREJECTED ? 401 : 500, "%s",
					 e ? e->msg : "login failed");
		return;
	}
	_cleanup_json_ json_t *ok =
		json_pack("{s:s,s:s}", "IdentityToken", "", "Status", "Login Succeeded");
	berth_http_respond_json(req, 200, ok);
}

int daemon_routes_registry(struct berthd *d, struct berth_error **err)
{
	return berth_api_router_add(d->router, "POST", "/auth", auth, d, err);
}
