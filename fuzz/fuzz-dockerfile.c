/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker build's inputs that berthd reads before anything runs: the Dockerfile (dockerfile.c:
 * lines, continuations, directives, heredocs, flags, the shell lexer on every argument) and the
 * .dockerignore patterns (lib/base/ignore.c).  The input up to the first NUL is the Dockerfile;
 * after it, a .dockerignore whose patterns are matched against the Dockerfile's words.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_error *err = NULL;
	struct df_instr *v = NULL;
	struct berth_ignore ig = {0};
	size_t n = 0, split;
	char escape, *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	split = strlen(text);
	if (df_parse(text, &v, &n, &escape, &err) == 0) {
		json_t *env = json_pack("[s,s]", "A=1", "PATH=/bin");
		for (size_t i = 0; i < n; i++) {
			for (size_t k = 0; v[i].args && v[i].args[k]; k++) {
				char *w = NULL, **ws = NULL;
				struct berth_error *e = NULL;
				if (df_lex(v[i].args[k], escape, env, &w, &ws, &e) == 0) {
					free(w);
					berth_strv_free(ws);
				}
				berth_error_free(e);
			}
			for (size_t k = 0; k < v[i].n_heredocs; k++) {
				char *w = NULL;
				struct berth_error *e = NULL;
				if (df_expand_heredoc(v[i].heredocs[k].content, escape, env, &w,
						      &e) == 0)
					free(w);
				berth_error_free(e);
			}
		}
		json_decref(env);
	}
	berth_error_freep(&err);
	if (split < size && berth_ignore_parse(text + split + 1, &ig, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			berth_ignore_match(&ig, v[i].cmd);
			for (size_t k = 0; v[i].args && v[i].args[k]; k++)
				berth_ignore_match(&ig, v[i].args[k]);
		}
		berth_ignore_release(&ig);
	}
	berth_error_free(err);
	for (size_t i = 0; i < n; i++)
		df_instr_release(&v[i]);
	free(v);
	free(text);
	return 0;
}
