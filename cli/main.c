/* SPDX-License-Identifier: Apache-2.0 */
/* berth: docker's command line for berthd. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

#include "arena.h"
#include "cli.h"
#include "base/banned.h"

int main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct cli c = {0};
	int code;

	/* full buffering: output is written in large pieces, flushed at exit and before errors */
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	cli_arena_install();
	/* jansson seeds its hash tables by opening and reading /dev/urandom: one syscall instead */
	uint32_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed) && seed)
		json_object_seed(seed);
	code = cli_main(&c, argc, argv);
	if (fflush(stdout) != 0 && code == 0)
		code = 1;
	berth_http_client_free(c.http);
	free(c.err);
	free(c.refused_body);
	free(c.host);
	free(c.context_name);
	free(c.config_dir);
	if (c.config)
		json_decref(c.config);
	return code;
}
