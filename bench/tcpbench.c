/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/tcpbench: the two ends of bench/net.sh's throughput case, so that what is measured is
 * the path between them, not a busybox nc or a shell's /dev/tcp.  Built static by the script
 * and bind-mounted read-only into each engine's container, the same binary for both engines.
 *
 *   tcpbench sink PORT           accept on 0.0.0.0:PORT forever; each connection's bytes go
 *                                to /dev/null through splice (no copy to user space), then
 *                                the connection is closed
 *   tcpbench send IP PORT MIB    connect, write MIB MiB in 1 MiB writes, shut down the write
 *                                side and wait for the peer's close (every byte delivered,
 *                                through any proxy in between); prints "BYTES NANOSECONDS"
 *
 * Not part of berth: a benchmark tool, which prints its errors and exits 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static int die(const char *what)
{
	fprintf(stderr, "tcpbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned long number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end || v == 0 || v > max) {
		fprintf(stderr, "tcpbench: invalid number '%s'\n", s);
		exit(1);
	}
	return v;
}

/* One connection's bytes to /dev/null: socket -> pipe -> /dev/null, never through user space. */
static void drain(int conn, int null, int pipefd[2])
{
	static char buf[CHUNK];

	for (;;) {
		ssize_t n = splice(conn, NULL, pipefd[1], NULL, CHUNK, SPLICE_F_MOVE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL) {
			/* a kernel that cannot splice this socket: plain reads with a large buffer */
			while ((n = read(conn, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
				;
			return;
		}
		if (n <= 0)
			return;
		while (n > 0) {
			ssize_t m = splice(pipefd[0], NULL, null, NULL, (size_t)n, SPLICE_F_MOVE);

			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0)
				die("splice to /dev/null");
			n -= m;
		}
	}
}

static int sink(unsigned long port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, pipefd[2];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || null < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
		die("setup");
	fcntl(pipefd[1], F_SETPIPE_SZ, CHUNK); /* a smaller pipe only costs more calls */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		die("listen");
	for (;;) {
		int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		drain(conn, null, pipefd);
		close(conn);
	}
}

static int send_bytes(const char *ip, unsigned long port, unsigned long mib)
{
	static char buf[CHUNK];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timespec t0, t1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		die("address");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	for (unsigned long i = 0; i < mib; i++) {
		size_t off = 0;

		while (off < sizeof(buf)) {
			ssize_t n = write(fd, buf + off, sizeof(buf) - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				die("write");
			off += (size_t)n;
		}
	}
	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown");
	/* the peer closes once it has read everything: EOF here means delivered */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lu %lld\n", mib * CHUNK,
	       (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		return sink(number(argv[2], 65535));
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return send_bytes(argv[2], number(argv[3], 65535), number(argv[4], 1 << 20));
	fprintf(stderr, "usage: tcpbench sink PORT | tcpbench send IP PORT MIB\n");
	return 2;
}
