/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The documents of image archives: one input is given to each parser in turn (docker-archive
 * manifest.json, OCI index, OCI manifest, image config), with limits small enough that the
 * bounds are reached too.
 */
#include <stdint.h>
#include <stdlib.h>

#include "image/image-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_image_limits lim = {
		.max_layers = 64, .max_images = 64, .max_json_size = 1 << 20};
	const char *text = (const char *)data;
	struct berth_error *err = NULL;
	struct img_archive_item *items = NULL;
	struct img_descriptor *d = NULL, config;
	struct img_config c;
	size_t n = 0;

	img_limits_fill(&lim, &lim);
	if (img_parse_docker_manifest(text, size, &lim, &items, &n, &err) == 0)
		img_archive_items_free(items, n);
	berth_error_freep(&err);
	if (img_parse_oci_index(text, size, &lim, &d, &n, &err) == 0)
		img_descriptors_free(d, n);
	berth_error_freep(&err);
	if (img_parse_oci_manifest(text, size, &lim, &config, &d, &n, &err) == 0) {
		img_descriptor_release(&config);
		img_descriptors_free(d, n);
	}
	berth_error_freep(&err);
	if (img_parse_config(text, size, &lim, &c, &err) == 0) {
		char **chains = NULL;
		if (berth_chain_ids(c.diff_ids, c.n_diff_ids, &chains, NULL) < 0)
			abort(); /* the parser let a diff id through that is not a digest */
		berth_strv_free(chains);
		img_config_release(&c);
	}
	berth_error_freep(&err);
	return 0;
}
