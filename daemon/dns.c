/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The name server of user-defined networks: one UDP socket on each such network's gateway
 * address, port 53, served by one thread.  A name of a container on that network (its name, its
 * aliases, its id or short id) gets that container's address; a name of the network that is not
 * a container's gets an empty answer for other types and NXDOMAIN for A; any other name is
 * forwarded to the nameservers the asking container was given with --dns, else to the host's
 * (one short-lived thread per forwarded query, bounded).
 * Containers on the default bridge network use the host's nameservers directly, as on docker.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "containers-internal.h"
#include "networks-internal.h"
#include "base/banned.h"

#define DNS_PORT	   53
#define MAX_FORWARDS	   64
#define FORWARD_TIMEOUT_MS 3000
#define ANSWER_TTL	   600

struct dns_socket {
	char *network_id;
	uint32_t addr;
	int fd;
};

struct daemon_dns {
	pthread_t thread;
	int wake; /* eventfd: the table of networks changed, or stop */
	atomic_bool stop;
	atomic_uint forwards;
	struct dns_socket *socks;
	size_t n_socks;
};

/* ---- answering -------------------------------------------------------------------------- */

static bool name_is(const char *qname, const char *name)
{
	return name && strcasecmp(qname, name) == 0;
}

/* Addresses for qname on the network (d->lock held); true when the name is one of its own. */
static bool lookup_locked(struct berthd *d, const char *network_id, const char *qname,
			  uint32_t *addrs, size_t *n, uint8_t (*addrs6)[16], size_t *n6)
{
	struct daemon_network *net = daemon_network_find_locked(d, network_id, NULL);
	size_t qlen = strlen(qname);
	bool known = false;

	*n = *n6 = 0;
	if (!net)
		return false;
	for (size_t i = 0; i < net->n_endpoints && *n < BERTH_DNS_MAX_ANSWERS; i++) {
		const struct daemon_endpoint *ep = &net->endpoints[i];
		bool match = name_is(qname, ep->container_name) ||
			     (qlen >= 12 && strncasecmp(ep->container_id, qname, qlen) == 0 &&
			      qlen <= strlen(ep->container_id));
		for (char **a = ep->aliases; !match && a && *a; a++)
			match = name_is(qname, *a);
		if (!match) {
			/* the container's hostname, the last of docker's DNSNames */
			struct daemon_container *c = ctr_find_locked(d, ep->container_id, NULL);
			match = c && name_is(qname, json_string_value(json_object_get(c->config,
										      "Hostname")));
		}
		if (match) {
			addrs[(*n)++] = ep->ip;
			if (ep->has_ip6)
				memcpy(addrs6[(*n6)++], ep->ip6, 16);
			known = true;
		}
	}
	return known;
}

/*
 * The nameservers the container at addr on the network asked for with --dns (docker's embedded
 * server forwards to them instead of the host's); 0 when it gave none.  d->lock held.
 */
static size_t container_upstreams_locked(struct berthd *d, const char *network_id, uint32_t addr,
					 uint32_t *out, size_t max)
{
	struct daemon_network *net = daemon_network_find_locked(d, network_id, NULL);
	struct daemon_container *c = NULL;
	size_t n = 0, i;
	json_t *v;

	for (size_t k = 0; net && !c && k < net->n_endpoints; k++)
		if (net->endpoints[k].ip == addr)
			c = ctr_find_locked(d, net->endpoints[k].container_id, NULL);
	json_array_foreach (c ? json_object_get(c->host_config, "Dns") : NULL, i, v)
		if (n < max && berth_net_addr_parse(json_string_value(v), &out[n]) == 0)
			n++;
	return n;
}

/* The host's nameservers, from /etc/resolv.conf as berthd sees it. */
static size_t upstreams(uint32_t *out, size_t max)
{
	_cleanup_free_ char *text = NULL;
	size_t n = 0;

	if (berth_read_file_at(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &text, NULL, NULL) < 0)
		return 0;
	for (char *line = text, *next; line && *line && n < max; line = next) {
		char word[16], arg[64];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, " %15s %63s", word, arg) == 2 && strcmp(word, "nameserver") == 0 &&
		    berth_net_addr_parse(arg, &out[n]) == 0)
			n++;
	}
	return n;
}

struct forward {
	struct daemon_dns *dns;
	uint32_t ups[3]; /* the asking container's own nameservers (--dns), if it has any */
	size_t n_ups;
	int reply_fd; /* the network's socket (a dup) */
	struct sockaddr_in client;
	uint8_t pkt[512];
	size_t len;
};

/* Ask each upstream in turn; relay the first answer to the client; SERVFAIL when none. */
static void *forward_main(void *arg)
{
	struct forward *f = arg;
	uint32_t ups[3];
	size_t n = f->n_ups;
	uint8_t buf[4096];

	if (n)
		memcpy(ups, f->ups, n * sizeof(*ups));
	else
		n = upstreams(ups, 3);
	ssize_t got = -1;

	for (size_t i = 0; i < n && got < 0; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(DNS_PORT)};
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			break;
		sa.sin_addr.s_addr = htonl(ups[i]);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    send(fd, f->pkt, f->len, 0) == (ssize_t)f->len) {
			struct pollfd p = {fd, POLLIN, 0};
			if (poll(&p, 1, FORWARD_TIMEOUT_MS) == 1)
				got = recv(fd, buf, sizeof(buf), 0);
		}
		close(fd);
		/* an answer must be to this question: same id */
		if (got >= 2 && (buf[0] != f->pkt[0] || buf[1] != f->pkt[1]))
			got = -1;
	}
	if (got < 12) {
		struct berth_dns_query q;

		if (berth_dns_parse_query(f->pkt, f->len, &q) == 0)
			got = berth_dns_build_answer(&q, f->pkt, BERTH_DNS_RCODE_SERVFAIL, NULL, 0,
						     0, buf, sizeof(buf));
	}
	if (got > 0)
		sendto(f->reply_fd, buf, (size_t)got, 0, (struct sockaddr *)&f->client,
		       sizeof(f->client));
	close(f->reply_fd);
	atomic_fetch_sub(&f->dns->forwards, 1);
	free(f);
	return NULL;
}

/*
 * A shared alias's addresses in a new random order each time (docker's shuffleAddr): clients
 * take the first, so this is what spreads them over the containers.
 */
static void shuffle_answers(uint32_t *addrs, size_t n, uint8_t (*addrs6)[16], size_t n6)
{
	uint32_t rnd[BERTH_DNS_MAX_ANSWERS * 2];

	if ((n < 2 && n6 < 2) || getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		return;
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd[i - 1] % i;
		uint32_t t = addrs[i - 1];
		addrs[i - 1] = addrs[j];
		addrs[j] = t;
	}
	for (size_t i = n6; i > 1; i--) {
		size_t j = rnd[BERTH_DNS_MAX_ANSWERS + i - 1] % i;
		uint8_t t[16];
		memcpy(t, addrs6[i - 1], 16);
		memcpy(addrs6[i - 1], addrs6[j], 16);
		memcpy(addrs6[j], t, 16);
	}
}

static void serve_one(struct berthd *d, struct daemon_dns *dns, const struct dns_socket *s)
{
	uint8_t pkt[512], out[512];
	struct sockaddr_in client;
	socklen_t cl = sizeof(client);
	ssize_t len =
		recvfrom(s->fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&client, &cl);
	struct berth_dns_query q;
	uint32_t addrs[BERTH_DNS_MAX_ANSWERS];
	uint8_t addrs6[BERTH_DNS_MAX_ANSWERS][16];
	size_t n = 0, n6 = 0;
	bool known;
	ssize_t m;
	int r;

	if (len <= 0)
		return;
	r = berth_dns_parse_query(pkt, (size_t)len, &q);
	if (r < 0) {
		/* a query we cannot read: FORMERR/NOTIMP when there is a header to answer */
		if (len >= 12 && !(pkt[2] & 0x80)) {
			memcpy(out, pkt, 12);
			out[2] = (uint8_t)(0x80 | (pkt[2] & 0x79));
			out[3] = r == -ENOTSUP ? BERTH_DNS_RCODE_NOTIMP : BERTH_DNS_RCODE_FORMERR;
			memset(out + 4, 0, 8);
			sendto(s->fd, out, 12, 0, (struct sockaddr *)&client, cl);
		}
		return;
	}
	uint32_t ups[3];
	size_t n_ups = 0;

	pthread_mutex_lock(&d->lock);
	known = q.qclass == BERTH_DNS_CLASS_IN &&
		lookup_locked(d, s->network_id, q.name, addrs, &n, addrs6, &n6);
	if (!known)
		n_ups = container_upstreams_locked(d, s->network_id, ntohl(client.sin_addr.s_addr),
						   ups, 3);
	pthread_mutex_unlock(&d->lock);
	if (known) {
		shuffle_answers(addrs, n, addrs6, n6);
		/* a container's name: its addresses for A and AAAA, an empty answer for any
		 * other type */
		if (q.qtype == BERTH_DNS_TYPE_AAAA)
			m = berth_dns_build_answer6(&q, pkt, BERTH_DNS_RCODE_OK, addrs6, n6,
						    ANSWER_TTL, out, sizeof(out));
		else
			m = berth_dns_build_answer(&q, pkt, BERTH_DNS_RCODE_OK, addrs,
						   q.qtype == BERTH_DNS_TYPE_A ? n : 0, ANSWER_TTL,
						   out, sizeof(out));
		if (m > 0)
			sendto(s->fd, out, (size_t)m, 0, (struct sockaddr *)&client, cl);
		return;
	}
	/* not a container's name: the host's nameservers answer it */
	struct forward *f = NULL;
	pthread_t t;
	pthread_attr_t attr;

	if (atomic_fetch_add(&dns->forwards, 1) >= MAX_FORWARDS || !(f = calloc(1, sizeof(*f))) ||
	    (f->reply_fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		atomic_fetch_sub(&dns->forwards, 1);
		free(f);
		m = berth_dns_build_answer(&q, pkt, BERTH_DNS_RCODE_SERVFAIL, NULL, 0, 0, out,
					   sizeof(out));
		if (m > 0)
			sendto(s->fd, out, (size_t)m, 0, (struct sockaddr *)&client, cl);
		return;
	}
	f->dns = dns;
	f->client = client;
	memcpy(f->ups, ups, n_ups * sizeof(*ups));
	f->n_ups = n_ups;
	memcpy(f->pkt, pkt, (size_t)len);
	f->len = (size_t)len;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 << 10);
	if (pthread_create(&t, &attr, forward_main, f) != 0) {
		close(f->reply_fd);
		free(f);
		atomic_fetch_sub(&dns->forwards, 1);
	}
	pthread_attr_destroy(&attr);
}

/* ---- the sockets ---------------------------------------------------------------------------- */

static void sockets_close(struct daemon_dns *dns)
{
	for (size_t i = 0; i < dns->n_socks; i++) {
		close(dns->socks[i].fd);
		free(dns->socks[i].network_id);
	}
	free(dns->socks);
	dns->socks = NULL;
	dns->n_socks = 0;
}

/* One socket per user bridge network, on its gateway (sockets of unchanged networks kept). */
static void sockets_update(struct berthd *d, struct daemon_dns *dns)
{
	struct dns_socket *next;
	size_t n = 0;

	pthread_mutex_lock(&d->lock);
	next = calloc(d->networks.n + 1, sizeof(*next));
	for (size_t i = 0; next && i < d->networks.n; i++) {
		const struct daemon_network *net = d->networks.v[i];
		struct dns_socket s = {.fd = -1, .addr = net->has_pool ? net->pool.gateway : 0};

		if (net->predefined || !net->bridge || !net->has_pool)
			continue;
		for (size_t k = 0; k < dns->n_socks; k++)
			if (berth_streq(dns->socks[k].network_id, net->id) &&
			    dns->socks[k].addr == s.addr) {
				s.fd = dns->socks[k].fd;
				dns->socks[k].fd = -1; /* moved */
			}
		if (s.fd < 0) {
			struct sockaddr_in sa = {.sin_family = AF_INET,
						 .sin_port = htons(DNS_PORT)};

			sa.sin_addr.s_addr = htonl(s.addr);
			s.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
			if (s.fd >= 0 && bind(s.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				char a[16];

				berth_net_addr_format(s.addr, a);
				log_warn("network %s: no name server on %s:53: %s", net->name, a,
					 strerror(errno));
				close(s.fd);
				s.fd = -1;
			}
		}
		if (s.fd >= 0 && (s.network_id = strdup(net->id)))
			next[n++] = s;
		else if (s.fd >= 0)
			close(s.fd);
	}
	pthread_mutex_unlock(&d->lock);
	for (size_t k = 0; k < dns->n_socks; k++)
		if (dns->socks[k].fd >= 0)
			close(dns->socks[k].fd);
	for (size_t k = 0; k < dns->n_socks; k++)
		free(dns->socks[k].network_id);
	free(dns->socks);
	dns->socks = next;
	dns->n_socks = next ? n : 0;
}

static void *dns_main(void *arg)
{
	struct berthd *d = arg;
	struct daemon_dns *dns = d->networks.dns;

	sockets_update(d, dns);
	while (!atomic_load(&dns->stop)) {
		size_t n = dns->n_socks;
		struct pollfd *p = calloc(n + 1, sizeof(*p));

		if (!p)
			break;
		p[0] = (struct pollfd){dns->wake, POLLIN, 0};
		for (size_t i = 0; i < n; i++)
			p[i + 1] = (struct pollfd){dns->socks[i].fd, POLLIN, 0};
		int r = poll(p, n + 1, -1);
		if (r > 0) {
			for (size_t i = 0; i < n; i++)
				if (p[i + 1].revents & POLLIN)
					serve_one(d, dns, &dns->socks[i]);
			if (p[0].revents & POLLIN) {
				uint64_t v;
				if (read(dns->wake, &v, sizeof(v)) < 0) {
					/* nothing to do: the counter is read again next time */
				}
				if (!atomic_load(&dns->stop))
					sockets_update(d, dns);
			}
		}
		free(p);
	}
	sockets_close(dns);
	return NULL;
}

int daemon_dns_start(struct berthd *d, struct berth_error **err)
{
	struct daemon_dns *dns = calloc(1, sizeof(*dns));
	int r;

	if (!dns)
		return berth_error_set(err, ENOMEM, "out of memory");
	dns->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dns->wake < 0) {
		free(dns);
		return berth_error_sys(err, errno, "name server: eventfd");
	}
	d->networks.dns = dns;
	r = pthread_create(&dns->thread, NULL, dns_main, d);
	if (r != 0) {
		close(dns->wake);
		free(dns);
		d->networks.dns = NULL;
		return berth_error_sys(err, r, "name server: start its thread");
	}
	return 0;
}

/* Is there a user network, whose containers would ask the name server?  (d->lock) */
static bool wanted_locked(struct berthd *d)
{
	for (size_t i = 0; i < d->networks.n; i++)
		if (!d->networks.v[i]->predefined && d->networks.v[i]->bridge)
			return true;
	return false;
}

void daemon_dns_networks_changed(struct berthd *d)
{
	uint64_t one = 1;

	if (!d->networks.dns) {
		/* its thread starts with the first user network: an idle berthd has none */
		pthread_mutex_lock(&d->lock);
		bool wanted = wanted_locked(d);
		pthread_mutex_unlock(&d->lock);
		_cleanup_error_ struct berth_error *e = NULL;
		if (wanted && daemon_dns_start(d, &e) < 0)
			log_error("name server: %s", e->msg);
		return;
	}
	if (write(d->networks.dns->wake, &one, sizeof(one)) < 0) {
		/* the counter is full: a wake-up is pending anyway */
	}
}

void daemon_dns_stop(struct berthd *d)
{
	struct daemon_dns *dns = d->networks.dns;

	if (!dns)
		return;
	atomic_store(&dns->stop, true);
	daemon_dns_networks_changed(d);
	pthread_join(dns->thread, NULL);
	/* forwarders finish on their own within FORWARD_TIMEOUT_MS per upstream; wait for them */
	for (int i = 0; i < 240 && atomic_load(&dns->forwards) > 0; i++)
		usleep(50 * 1000);
	close(dns->wake);
	free(dns);
	d->networks.dns = NULL;
}
