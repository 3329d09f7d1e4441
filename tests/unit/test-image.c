/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/image without root: references, digests, chain ids, archive documents, whiteout names,
 * tar apply (hostile entries, both path resolvers), tar writers (round trips, whiteout forms),
 * and the store's index (blobs, import, tags, resolve, delete rules, gc, recovery on open).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image/image-internal.h"
#include "image/image.h"

#include "tap.h"

static char tmproot[] = "/tmp/berth-test-image.XXXXXX";

/* ---- helpers ---------------------------------------------------------------------------- */

/* tmproot/rel, malloc'd */
static char *tp(const char *rel)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", tmproot, rel) < 0)
		abort();
	return p;
}

static char *fresh_dir(const char *name)
{
	char *p = tp(name);
	berth_rm_rf(p, NULL);
	if (mkdir(p, 0755) < 0)
		abort();
	return p;
}

static int dirfd_of(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	return fd;
}

static bool exists_at(const char *dir, const char *rel)
{
	char *p = NULL;
	struct stat st;
	bool r;
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		abort();
	r = lstat(p, &st) == 0;
	free(p);
	return r;
}

static char *read_at(const char *dir, const char *rel)
{
	char *p = NULL, *data = NULL;
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		abort();
	if (berth_read_file_at(AT_FDCWD, p, 1 << 20, &data, NULL, NULL) < 0)
		data = NULL;
	free(p);
	return data;
}

static size_t count_entries(const char *dir);

/* entries in tmproot/rel */
static size_t count_in(const char *rel)
{
	char *p = tp(rel);
	size_t n = count_entries(p);
	free(p);
	return n;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* A tar built in memory (a memfd), entry by entry. */
struct tb {
	struct archive *a;
	int fd;
};

static la_ssize_t tb_write(struct archive *a, void *ud, const void *buf, size_t len)
{
	(void)a;
	return berth_write_all(*(int *)ud, buf, len) < 0 ? -1 : (la_ssize_t)len;
}

static void tb_open_filter(struct tb *t, int filter)
{
	t->fd = memfd_create("tar", MFD_CLOEXEC);
	t->a = archive_write_new();
	archive_write_set_format_pax_restricted(t->a);
	if (filter == 1)
		archive_write_add_filter_gzip(t->a);
	else if (filter == 2)
		archive_write_add_filter_zstd(t->a);
	archive_write_set_bytes_in_last_block(t->a, 1);
	archive_write_open(t->a, &t->fd, NULL, tb_write, NULL);
}

static void tb_open(struct tb *t)
{
	tb_open_filter(t, 0);
}

static void tb_add(struct tb *t, const char *name, mode_t type, mode_t perm, const char *data,
		   const char *link, bool hard)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_mtime(e, 1000000, 0);
	archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
	if (link && hard)
		archive_entry_set_hardlink(e, link);
	else if (link)
		archive_entry_set_symlink(e, link);
	archive_write_header(t->a, e);
	if (data)
		archive_write_data(t->a, data, strlen(data));
	archive_entry_free(e);
}

#define tb_file(t, n, d)     tb_add(t, n, AE_IFREG, 0644, d, NULL, false)
#define tb_dir(t, n)	     tb_add(t, n, AE_IFDIR, 0755, NULL, NULL, false)
#define tb_symlink(t, n, l)  tb_add(t, n, AE_IFLNK, 0777, NULL, l, false)
#define tb_hardlink(t, n, l) tb_add(t, n, AE_IFREG, 0644, NULL, l, true)

/* finish and rewind: the fd reads the tar */
static int tb_done(struct tb *t)
{
	archive_write_close(t->a);
	archive_write_free(t->a);
	lseek(t->fd, 0, SEEK_SET);
	return t->fd;
}

static int apply_fd(const char *dir, int fd, unsigned flags, struct berth_error **err)
{
	int dfd = dirfd_of(dir);
	struct berth_tar_stats st;
	int r = berth_tar_apply(dfd, fd, flags, NULL, &st, err);
	close(dfd);
	close(fd);
	return r;
}

static unsigned unpriv(void)
{
	return geteuid() == 0 ? 0 : BERTH_TAR_NO_OWNERS;
}

/* ---- references ------------------------------------------------------------------------- */

static void test_references(void)
{
	static const struct {
		const char *in, *full, *familiar;
	} good[] = {
		{"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
		{"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"docker.io/library/busybox:latest", "docker.io/library/busybox:latest",
		 "busybox:latest"},
		{"foo/bar", "docker.io/foo/bar:latest", "foo/bar:latest"},
		{"docker.io/foo/bar/baz:x", "docker.io/foo/bar/baz:x", "foo/bar/baz:x"},
		{"localhost/foo", "localhost/foo:latest", "localhost/foo:latest"},
		{"localhost:5000/foo/bar:tag", "localhost:5000/foo/bar:tag",
		 "localhost:5000/foo/bar:tag"},
		{"127.0.0.1:5000/a", "127.0.0.1:5000/a:latest", "127.0.0.1:5000/a:latest"},
		{"[::1]:5000/a:b", "[::1]:5000/a:b", "[::1]:5000/a:b"},
		{"[::1]/a", "[::1]/a:latest", "[::1]/a:latest"},
		{"Foo/bar", "Foo/bar:latest", "Foo/bar:latest"},
		{"UPPER.com/foo", "UPPER.com/foo:latest", "UPPER.com/foo:latest"},
		{"busybox:Latest", "docker.io/library/busybox:Latest", "busybox:Latest"},
		{"a__b", "docker.io/library/a__b:latest", "a__b:latest"},
		{"a--b.c_d", "docker.io/library/a--b.c_d:latest", "a--b.c_d:latest"},
		{"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000"},
		{"sha256:abc", "docker.io/library/sha256:abc", "sha256:abc"},
		{"example.com/a/"
		 "b@sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
		 "example.com/a/"
		 "b@sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
		 "example.com/a/"
		 "b@sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"},
		{"a/b:t@sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
		 "docker.io/a/"
		 "b:t@sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
		 "a/b:t@sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"},
	};
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{"", "invalid reference format"},
		{":tag", "invalid reference format"},
		{"Busybox",
		 "invalid reference format: repository name (library/Busybox) must be lowercase"},
		{"foo/Bar",
		 "invalid reference format: repository name (foo/Bar) must be lowercase"},
		{"localhost:5000/Foo",
		 "invalid reference format: repository name (Foo) must be lowercase"},
		{"a___b", "invalid reference format"},
		{"a-", "invalid reference format"},
		{"-a", "invalid reference format"},
		{"a..b", "invalid reference format"},
		{"a._b", "invalid reference format"},
		{"foo//bar", "invalid reference format"},
		{"foo/", "invalid reference format"},
		{"http://foo/bar", "invalid reference format"},
		{"busybox:tag:extra", "invalid reference format"},
		{"busybox@sha256:abc", "invalid reference format"},
		{"a@b@c", "invalid reference format"},
		{"example.com:port/foo", "invalid reference format"},
		{"example.com:/foo", "invalid reference format"},
		{"foo_bar.com:8080/baz", "invalid reference format"},
		{"[fe80::1%eth0]:5000/foo", "invalid reference format"},
		{"busybox@sha256:CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB",
		 "invalid checksum digest format"},
		{"busybox@sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48b",
		 "invalid checksum digest length"},
		{"busybox@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm"},
		{"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
		 "invalid repository name "
		 "(ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb), "
		 "cannot specify 64-byte hexadecimal strings"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct berth_reference *ref = NULL;
		struct berth_error *err = NULL;
		char *full = NULL, *fam = NULL, *again = NULL;
		int r = berth_reference_parse(good[i].in, &ref, &err);
		if (!ok(r == 0, "reference '%s' parses", good[i].in)) {
			printf("#   %s\n", err ? err->msg : "?");
			berth_error_free(err);
			continue;
		}
		berth_reference_default_tag(ref);
		full = berth_reference_string(ref);
		fam = berth_reference_familiar(ref);
		is_str(full, good[i].full, "'%s' normalises", good[i].in);
		is_str(fam, good[i].familiar, "'%s' familiar form", good[i].in);
		/* the full form parses back to itself */
		ok(berth_reference_normalize(full, &again, NULL) == 0 && berth_streq(again, full),
		   "'%s' round trips", full);
		free(full);
		free(fam);
		free(again);
		berth_reference_free(ref);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct berth_reference *ref = NULL;
		struct berth_error *err = NULL;
		int r = berth_reference_parse(bad[i].in, &ref, &err);
		ok(r == -EINVAL, "reference '%s' refused", bad[i].in);
		is_str(err ? err->msg : NULL, bad[i].msg, "'%s' message", bad[i].in);
		berth_error_free(err);
		berth_reference_free(ref);
	}

	/* 255 characters of name: "docker.io/library/" is 18 of them */
	char name[300];
	memset(name, 'a', sizeof(name));
	name[237] = '\0';
	struct berth_reference *ref = NULL;
	struct berth_error *err = NULL;
	ok(berth_reference_parse(name, &ref, NULL) == 0, "a 255-character name parses");
	berth_reference_free(ref);
	ref = NULL;
	name[237] = 'a';
	name[238] = '\0';
	ok(berth_reference_parse(name, &ref, &err) == -EINVAL && err &&
		   strcmp(err->msg, "repository name must not be more than 255 characters") == 0,
	   "a 256-character name is refused");
	berth_error_free(err);
	err = NULL;
	char tag[200];
	snprintf(tag, sizeof(tag), "busybox:%0128d", 0);
	ok(berth_reference_parse(tag, &ref, NULL) == 0, "a 128-character tag parses");
	berth_reference_free(ref);
	ref = NULL;
	snprintf(tag, sizeof(tag), "busybox:%0129d", 0);
	ok(berth_reference_parse(tag, &ref, NULL) == -EINVAL, "a 129-character tag is refused");

	char *fam = img_familiar_string("docker.io/library/busybox:latest");
	is_str(fam, "busybox:latest", "familiar string of a full reference");
	free(fam);
}

static void test_digests(void)
{
	struct berth_error *err = NULL;
	char d[BERTH_DIGEST_SIZE];
	char **chains = NULL;
	char *diffs[] = {"sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
			 "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
			 "sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6",
			 NULL};

	berth_sha256_digest("a", 1, d);
	is_str(d, diffs[0], "sha256 of 'a'");
	ok(berth_digest_is_sha256(diffs[0]), "a sha256 digest");
	ok(!berth_digest_is_sha256(
		   "sha256:CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB"),
	   "uppercase hex is not");
	ok(berth_digest_validate("sha512:"
				 "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
				 "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
				 NULL) == 0,
	   "sha512 digests are valid");
	ok(berth_digest_validate("sha256", &err) == -EINVAL &&
		   !strcmp(err->msg, "invalid checksum digest format"),
	   "no colon: format");
	berth_error_freep(&err);
	ok(berth_digest_validate("foo+bar:abc", &err) == -EINVAL &&
		   !strcmp(err->msg, "unsupported digest algorithm"),
	   "unknown algorithm");
	berth_error_freep(&err);
	ok(berth_digest_validate("Foo:abc", &err) == -EINVAL &&
		   !strcmp(err->msg, "invalid checksum digest format"),
	   "uppercase algorithm: format");
	berth_error_freep(&err);

	ok(berth_chain_ids(diffs, 3, &chains, NULL) == 0, "chain ids");
	is_str(chains[0], diffs[0], "chain[0] is diff[0]");
	is_str(chains[1], "sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676",
	       "chain[1] = sha256(chain[0] + ' ' + diff[1])");
	is_str(chains[2], "sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106",
	       "chain[2]");
	ok(chains[3] == NULL, "NULL-terminated");
	berth_strv_free(chains);
	char *badv[] = {"sha256:nothex", NULL};
	ok(berth_chain_ids(badv, 1, &chains, NULL) == -EINVAL, "a bad diff id is refused");

	int64_t t = 0;
	ok(img_parse_rfc3339("2024-01-02T03:04:05Z", &t) == 0 && t == 1704164645, "rfc3339");
	ok(img_parse_rfc3339("2024-01-02T03:04:05.123456789+01:00", &t) == 0 && t == 1704161045,
	   "rfc3339 with fraction and offset");
	ok(img_parse_rfc3339("2024-01-02 x", &t) == -EINVAL, "rfc3339 garbage refused");
}

/* ---- documents -------------------------------------------------------------------------- */

static void test_documents(void)
{
	struct berth_image_limits lim;
	struct img_archive_item *items = NULL;
	struct img_descriptor *d = NULL, cfgd;
	struct img_config c;
	struct berth_error *err = NULL;
	size_t n = 0;
	const char *mf = "[{\"Config\":\"abc.json\",\"RepoTags\":[\"busybox:latest\"],"
			 "\"Layers\":[\"a/layer.tar\",\"b/layer.tar\"]},{\"Config\":\"c.json\","
			 "\"RepoTags\":null,\"Layers\":[]}]";

	img_limits_fill(&lim, NULL);
	ok(img_parse_docker_manifest(mf, strlen(mf), &lim, &items, &n, NULL) == 0 && n == 2,
	   "manifest.json with two images");
	if (items && n == 2) {
		is_str(items[0].config, "abc.json", "Config");
		is_str(items[0].repo_tags[0], "busybox:latest", "RepoTags");
		is_str(items[0].layers[1], "b/layer.tar", "Layers");
		ok(items[1].repo_tags[0] == NULL, "RepoTags null is no tags");
	}
	img_archive_items_free(items, n);

	static const struct {
		const char *json, *msg;
	} badmf[] = {
		{"{}", "manifest.json: not an array"},
		{"[1]", "manifest.json[0]: not an object"},
		{"[{\"Layers\":[]}]", "manifest.json[0]: Config: not a path"},
		{"[{\"Config\":\"x\",\"Layers\":[1]}]", "manifest.json[0].Layers[0]: not a string"},
		{"[{\"Config\":\"x\",\"Layers\":[],\"RepoTags\":\"a\"}]",
		 "manifest.json[0].RepoTags: not an array"},
		{"[{\"Config\":\"x\",\"Layers\":[],\"Parent\":\"nope\"}]",
		 "manifest.json[0].Parent: not an image id"},
		{"[", NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(badmf); i++) {
		items = NULL;
		int r = img_parse_docker_manifest(badmf[i].json, strlen(badmf[i].json), &lim,
						  &items, &n, &err);
		ok(r == -EINVAL, "bad manifest.json %zu refused", i);
		if (badmf[i].msg)
			is_str(err ? err->msg : NULL, badmf[i].msg, "message of %zu", i);
		berth_error_freep(&err);
	}
	lim.max_layers = 1;
	ok(img_parse_docker_manifest(mf, strlen(mf), &lim, &items, &n, &err) == -EFBIG,
	   "more layers than max_layers: EFBIG");
	berth_error_freep(&err);
	img_limits_fill(&lim, NULL);
	lim.max_json_size = 10;
	ok(img_parse_docker_manifest(mf, strlen(mf), &lim, &items, &n, &err) == -EFBIG,
	   "larger than max_json_size: EFBIG");
	berth_error_freep(&err);
	img_limits_fill(&lim, NULL);

	const char *index =
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		"\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:"
		"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\",\"size\":3,"
		"\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"},"
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	ok(img_parse_oci_index(index, strlen(index), &lim, &d, &n, NULL) == 0 && n == 1,
	   "OCI index");
	if (d && n == 1) {
		ok(d[0].name == NULL, "a bare tag in ref.name is no image name");
		is_str(d[0].platform_arch, "amd64", "platform");
		ok(d[0].size == 3, "size");
	}
	img_descriptors_free(d, n);
	const char *badidx =
		"{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:x\",\"size\":1}]}";
	ok(img_parse_oci_index(badidx, strlen(badidx), &lim, &d, &n, &err) == -EINVAL,
	   "a bad digest in an index is refused");
	berth_error_freep(&err);
	const char *v1 = "{\"schemaVersion\":1,\"manifests\":[]}";
	ok(img_parse_oci_index(v1, strlen(v1), &lim, &d, &n, &err) == -EINVAL &&
		   strstr(err->msg, "schemaVersion"),
	   "schemaVersion 1 is refused");
	berth_error_freep(&err);

	const char *man = "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:"
			  "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\","
			  "\"size\":1},\"layers\":[]}";
	ok(img_parse_oci_manifest(man, strlen(man), &lim, &cfgd, &d, &n, NULL) == 0 && n == 0,
	   "OCI manifest without layers");
	img_descriptor_release(&cfgd);
	img_descriptors_free(d, n);

	const char *cfg = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
			  "\"layers\",\"diff_ids\":[\"sha256:"
			  "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\"]}}";
	ok(img_parse_config(cfg, strlen(cfg), &lim, &c, NULL) == 0 && c.n_diff_ids == 1,
	   "config with one layer");
	img_config_release(&c);
	static const struct {
		const char *json, *msg;
	} badcfg[] = {
		{"[]", "config: not an object"},
		{"{\"rootfs\":{\"type\":\"x\"}}", "config: rootfs.type is not \"layers\""},
		{"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"x\"]}}",
		 "config: rootfs.diff_ids[0]: 'x' is not a sha256 digest"},
		{"{\"os\":\"windows\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		 "cannot load windows image on linux"},
		{"{\"history\":3,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		 "config: history: not an array"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(badcfg); i++) {
		ok(img_parse_config(badcfg[i].json, strlen(badcfg[i].json), &lim, &c, &err) ==
			   -EINVAL,
		   "bad config %zu refused", i);
		is_str(err ? err->msg : NULL, badcfg[i].msg, "message of bad config %zu", i);
		berth_error_freep(&err);
	}
}

/* ---- names ------------------------------------------------------------------------------ */

static void test_names(void)
{
	const char *target = NULL;
	char *p = NULL;

	ok(img_whiteout_classify("foo", NULL) == IMG_WH_NONE, "plain name");
	ok(img_whiteout_classify(".wh.foo", &target) == IMG_WH_FILE && berth_streq(target, "foo"),
	   ".wh.foo hides foo");
	ok(img_whiteout_classify(".wh..wh..opq", NULL) == IMG_WH_OPAQUE, "opaque marker");
	ok(img_whiteout_classify(".wh..wh.plnk", NULL) == IMG_WH_META, "aufs bookkeeping");
	ok(img_whiteout_classify(".wh.", NULL) == IMG_WH_INVALID, ".wh. alone is invalid");
	ok(img_whiteout_classify(".wh..", NULL) == IMG_WH_INVALID, ".wh.. is invalid");
	ok(img_whiteout_classify(".wh...", NULL) == IMG_WH_INVALID, ".wh... is invalid");
	ok(img_whiteout_classify(".whfoo", NULL) == IMG_WH_NONE, ".whfoo is a name");

	static const struct {
		const char *in, *out;
	} clean[] = {
		{"./a/b", "a/b"},
		{"/etc/passwd", "etc/passwd"},
		{"a//b/", "a/b"},
		{"a/../b", "b"},
		{".", ""},
		{"./", ""},
		{"a/b/../../c", "c"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(clean); i++) {
		ok(img_clean_path(clean[i].in, &p) == 0 && berth_streq(p, clean[i].out),
		   "clean '%s' -> '%s'", clean[i].in, clean[i].out);
		free(p);
		p = NULL;
	}
	ok(img_clean_path("../x", &p) == -EINVAL, "'../x' leaves the root");
	ok(img_clean_path("a/../../x", &p) == -EINVAL, "'a/../../x' leaves the root");
	ok(img_clean_path("/..", &p) == -EINVAL, "'/..' leaves the root");
}

/* ---- tar apply -------------------------------------------------------------------------- */

/* Apply a hostile tar into box/root with the sentinel box/outside; nothing may appear outside. */
static void hostile(const char *what, int fd, bool must_fail, const char *inside,
		    const char *inside_content)
{
	char *box = fresh_dir("box");
	char *root = NULL, *outside = NULL;
	struct berth_error *err = NULL;
	int r;

	if (asprintf(&root, "%s/root", box) < 0 || asprintf(&outside, "%s/outside", box) < 0)
		abort();
	mkdir(root, 0755);
	mkdir(outside, 0755);
	r = apply_fd(root, fd, BERTH_TAR_WHITEOUTS | unpriv(), &err);
	if (must_fail)
		ok(r < 0, "%s: refused (%s)", what, err ? err->msg : "no error");
	else
		ok(r == 0, "%s: applied inside (%s)", what, err ? err->msg : "ok");
	ok(count_entries(outside) == 0, "%s: nothing written outside the root", what);
	ok(count_entries(box) == 2, "%s: nothing beside the root", what);
	if (inside) {
		char *got = read_at(root, inside);
		is_str(got, inside_content, "%s: landed at root/%s", what, inside);
		free(got);
	}
	berth_error_free(err);
	free(root);
	free(outside);
	free(box);
}

static void test_hostile(bool walk)
{
	struct tb t;
	const char *mode = walk ? "walk" : "openat2";

	berth_root_force_walk = walk;
	printf("# hostile tars, resolving with %s\n", mode);

	tb_open(&t);
	tb_file(&t, "../outside/x", "x");
	hostile("'../outside/x'", tb_done(&t), true, NULL, NULL);

	tb_open(&t);
	tb_file(&t, "a/../../outside/x", "x");
	hostile("'a/../../outside/x'", tb_done(&t), true, NULL, NULL);

	tb_open(&t);
	tb_file(&t, "/etc/passwd", "p");
	hostile("absolute '/etc/passwd'", tb_done(&t), false, "etc/passwd", "p");

	/* a symlink to the outside, then an entry through it: root/etc/passwd, as in a chroot */
	tb_open(&t);
	tb_symlink(&t, "a", "../outside");
	tb_file(&t, "a/passwd", "p");
	hostile("'a -> ../outside' then 'a/passwd'", tb_done(&t), false, "outside/passwd", "p");

	char abs[512];
	snprintf(abs, sizeof(abs), "%s/box/outside", tmproot);
	tb_open(&t);
	tb_symlink(&t, "a", abs);
	tb_file(&t, "a/passwd", "p");
	hostile("'a -> /absolute/outside' then 'a/passwd'", tb_done(&t), false, NULL, NULL);

	tb_open(&t);
	tb_symlink(&t, "etc", "/");
	tb_symlink(&t, "up", "../../../../..");
	tb_file(&t, "up/outside/x", "x");
	tb_file(&t, "etc/y", "y");
	hostile("'up -> ../../..' then 'up/outside/x'", tb_done(&t), false, "outside/x", "x");

	/* a symlink in place, then a file of the same name: the link is replaced, never followed */
	tb_open(&t);
	tb_symlink(&t, "f", "../outside/f");
	tb_file(&t, "f", "replaced");
	hostile("'f -> ../outside/f' then a file 'f'", tb_done(&t), false, "f", "replaced");

	/* a directory over a symlink to the outside */
	tb_open(&t);
	tb_symlink(&t, "d", "../outside");
	tb_dir(&t, "d");
	tb_file(&t, "d/x", "x");
	hostile("'d -> ../outside' then a directory 'd'", tb_done(&t), false, "d/x", "x");

	tb_open(&t);
	tb_file(&t, "x", "x");
	tb_hardlink(&t, "h", "../outside/x");
	hostile("hard link to '../outside/x'", tb_done(&t), true, NULL, NULL);

	snprintf(abs, sizeof(abs), "%s/box/outside/x", tmproot);
	tb_open(&t);
	tb_hardlink(&t, "h", abs);
	hostile("hard link to an absolute path outside", tb_done(&t), true, NULL, NULL);

	/* a hard link through a symlink to the outside: resolved inside, so nothing to link */
	tb_open(&t);
	tb_symlink(&t, "l", "../outside");
	tb_hardlink(&t, "h", "l/x");
	hostile("hard link through 'l -> ../outside'", tb_done(&t), true, NULL, NULL);

	/* a hard link to a symlink that points outside links the symlink itself */
	tb_open(&t);
	tb_symlink(&t, "l", "../outside/secret");
	tb_hardlink(&t, "h", "l");
	hostile("hard link to a symlink pointing out", tb_done(&t), false, NULL, NULL);

	tb_open(&t);
	tb_symlink(&t, "loop1", "loop2");
	tb_symlink(&t, "loop2", "loop1");
	tb_file(&t, "loop1/x", "x");
	hostile("a symlink loop", tb_done(&t), true, NULL, NULL);

	tb_open(&t);
	tb_file(&t, "../.wh.outside", "");
	hostile("a whiteout above the root", tb_done(&t), true, NULL, NULL);

	tb_open(&t);
	tb_symlink(&t, "a", "../outside");
	tb_file(&t, "a/.wh.x", "");
	tb_file(&t, "a/.wh..wh..opq", "");
	hostile("whiteouts through 'a -> ../outside'", tb_done(&t), geteuid() != 0, NULL, NULL);

	tb_open(&t);
	tb_file(&t, ".wh.", "");
	hostile("an empty whiteout name", tb_done(&t), true, NULL, NULL);

	berth_root_force_walk = false;
}

static void test_apply(void)
{
	struct berth_error *err = NULL;
	struct tb t;
	char *dir, *got;
	struct stat st;

	/* an ordinary tar with every kind of entry, owners aside */
	dir = fresh_dir("apply");
	tb_open(&t);
	tb_dir(&t, "./");
	tb_dir(&t, "etc/");
	tb_file(&t, "etc/hostname", "box\n");
	tb_add(&t, "bin/tool", AE_IFREG, 04755, "#!", NULL, false);
	tb_symlink(&t, "bin/sh", "tool");
	tb_hardlink(&t, "bin/tool2", "bin/tool");
	tb_add(&t, "ro", AE_IFDIR, 0555, NULL, NULL, false);
	tb_file(&t, "ro/inside", "written before the directory became read-only");
	tb_add(&t, "fifo", AE_IFIFO, 0600, NULL, NULL, false);
	ok(apply_fd(dir, tb_done(&t), unpriv(), &err) == 0, "apply a tar (%s)",
	   err ? err->msg : "ok");
	berth_error_freep(&err);
	got = read_at(dir, "etc/hostname");
	is_str(got, "box\n", "file content");
	free(got);
	char p[1024];
	snprintf(p, sizeof(p), "%s/bin/tool", dir);
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 04755, "setuid mode kept");
	ok(st.st_mtime == 1000000, "mtime restored");
	ok(st.st_nlink == 2, "hard link made");
	snprintf(p, sizeof(p), "%s/bin/sh", dir);
	char target[64] = "";
	ok(readlink(p, target, sizeof(target) - 1) == 4 && !strcmp(target, "tool"), "symlink");
	snprintf(p, sizeof(p), "%s/ro", dir);
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0555, "directory mode set at the end");
	ok(exists_at(dir, "ro/inside"), "entry inside a read-only directory");
	snprintf(p, sizeof(p), "%s/fifo", dir);
	ok(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode), "fifo");
	chmod(p, 0755);
	snprintf(p, sizeof(p), "%s/ro", dir);
	chmod(p, 0755);
	free(dir);

	/* compressed streams are detected */
	for (int f = 1; f <= 2; f++) {
		dir = fresh_dir("compressed");
		tb_open_filter(&t, f);
		tb_file(&t, "z", "zz");
		ok(apply_fd(dir, tb_done(&t), unpriv(), &err) == 0, "%s tar applies",
		   f == 1 ? "gzip" : "zstd");
		berth_error_freep(&err);
		got = read_at(dir, "z");
		is_str(got, "zz", "%s content", f == 1 ? "gzip" : "zstd");
		free(got);
		free(dir);
	}

	/* garbage and truncation */
	dir = fresh_dir("garbage");
	int fd = memfd_create("g", MFD_CLOEXEC);
	berth_write_all(fd, "this is not a tar archive at all, not even close......", 55);
	lseek(fd, 0, SEEK_SET);
	ok(apply_fd(dir, fd, unpriv(), &err) == -EINVAL, "garbage is EINVAL (%s)",
	   err ? err->msg : "");
	berth_error_freep(&err);
	tb_open(&t);
	char big[4096];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tb_file(&t, "big", big);
	fd = tb_done(&t);
	ok(ftruncate(fd, 2048) == 0, "truncate a tar");
	ok(apply_fd(dir, fd, unpriv(), &err) == -EINVAL, "a truncated tar is EINVAL (%s)",
	   err ? err->msg : "");
	berth_error_freep(&err);
	free(dir);

	/* limits */
	struct berth_image_limits lim = {.max_entries = 2};
	dir = fresh_dir("limits");
	tb_open(&t);
	tb_file(&t, "1", "1");
	tb_file(&t, "2", "2");
	tb_file(&t, "3", "3");
	fd = tb_done(&t);
	int dfd = dirfd_of(dir);
	ok(berth_tar_apply(dfd, fd, unpriv(), &lim, NULL, &err) == -EFBIG,
	   "more entries than max_entries: EFBIG (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	close(fd);
	lim = (struct berth_image_limits){.max_layer_size = 4096};
	tb_open_filter(&t, 1);
	char *huge = malloc(1 << 20);
	memset(huge, 0, 1 << 20);
	huge[(1 << 20) - 1] = '\0';
	memset(huge, 'a', (1 << 20) - 1);
	tb_file(&t, "bomb", huge);
	free(huge);
	fd = tb_done(&t);
	ok(berth_tar_apply(dfd, fd, unpriv(), &lim, NULL, &err) == -EFBIG,
	   "a small gzip of a large tar over max_layer_size: EFBIG (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	close(fd);
	lim = (struct berth_image_limits){.max_path = 16};
	tb_open(&t);
	tb_file(&t, "a-name-longer-than-sixteen", "x");
	fd = tb_done(&t);
	ok(berth_tar_apply(dfd, fd, unpriv(), &lim, NULL, &err) == -EFBIG,
	   "a name over max_path: EFBIG (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	close(fd);
	close(dfd);
	free(dir);
}

/* whiteouts in, whiteouts out */
static void test_whiteouts(void)
{
	struct berth_error *err = NULL;
	unsigned xflag = geteuid() == 0 ? 0 : BERTH_TAR_USER_XATTR;
	const char *xname = xflag ? "user.overlay.opaque" : "trusted.overlay.opaque";
	char *dir = fresh_dir("wh");
	struct tb t;
	char p[1024], v[8];
	struct stat st;

	tb_open(&t);
	tb_dir(&t, "etc/");
	tb_file(&t, "etc/.wh.passwd", "");
	tb_dir(&t, "opq/");
	tb_file(&t, "opq/.wh..wh..opq", "");
	tb_file(&t, "opq/kept", "k");
	tb_file(&t, ".wh.later", "");
	tb_file(&t, "later", "same layer wins over its whiteout");
	tb_file(&t, "mine", "m");
	tb_file(&t, ".wh.mine", "");
	tb_file(&t, ".wh..wh.plnk", "");
	ok(apply_fd(dir, tb_done(&t), BERTH_TAR_WHITEOUTS | unpriv() | xflag, &err) == 0,
	   "apply whiteouts (%s)", err ? err->msg : "ok");
	berth_error_freep(&err);
	snprintf(p, sizeof(p), "%s/etc/passwd", dir);
	ok(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
	   ".wh.passwd became a 0:0 character device");
	ok(!exists_at(dir, "etc/.wh.passwd"), "no .wh. file left");
	snprintf(p, sizeof(p), "%s/opq", dir);
	ok(getxattr(p, xname, v, sizeof(v)) == 1 && v[0] == 'y', "opaque directory has %s=y",
	   xname);
	ok(!exists_at(dir, "opq/.wh..wh..opq"), "no opaque marker file left");
	char *later = read_at(dir, "later");
	is_str(later, "same layer wins over its whiteout",
	       "an entry after its whiteout replaces it");
	free(later);
	char *mine = read_at(dir, "mine");
	is_str(mine, "m", "a whiteout does not hide its own layer's entry");
	free(mine);
	ok(!exists_at(dir, ".wh..wh.plnk"), "aufs bookkeeping skipped");

	/* the same tree written back: OCI whiteouts again, deterministic */
	int out1 = memfd_create("d1", MFD_CLOEXEC), out2 = memfd_create("d2", MFD_CLOEXEC);
	int dfd = dirfd_of(dir);
	ok(berth_tar_write_diff(dfd, out1, xflag, &err) == 0, "write the diff (%s)",
	   err ? err->msg : "ok");
	berth_error_freep(&err);
	ok(berth_tar_write_diff(dfd, out2, xflag, NULL) == 0, "write it again");
	close(dfd);
	off_t n1 = lseek(out1, 0, SEEK_END), n2 = lseek(out2, 0, SEEK_END);
	char *b1 = malloc((size_t)n1), *b2 = malloc((size_t)n2);
	ok(pread(out1, b1, (size_t)n1, 0) == n1 && pread(out2, b2, (size_t)n2, 0) == n2 &&
		   n1 == n2 && memcmp(b1, b2, (size_t)n1) == 0,
	   "the same tree gives the same bytes");
	free(b1);
	free(b2);
	close(out2);

	/* read the diff back: names in order, whiteouts as files */
	lseek(out1, 0, SEEK_SET);
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	archive_read_support_format_tar(a);
	archive_read_open_fd(a, out1, 10240);
	char names[1024] = "";
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		strncat(names, archive_entry_pathname(e), sizeof(names) - strlen(names) - 2);
		strncat(names, " ", sizeof(names) - strlen(names) - 1);
		if (!strcmp(archive_entry_pathname(e), "etc/.wh.passwd"))
			ok(archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) == 0,
			   "the whiteout is an empty regular file");
	}
	archive_read_free(a);
	is_str(names, "etc/ etc/.wh.passwd later mine opq/ opq/.wh..wh..opq opq/kept ",
	       "diff entries: byte order, depth first, opaque marker after its directory");
	close(out1);
	free(dir);
}

static void test_round_trip(void)
{
	struct berth_error *err = NULL;
	char *src = fresh_dir("rt-src"), *dst = fresh_dir("rt-dst");
	struct tb t;
	int fd1 = memfd_create("a", MFD_CLOEXEC), fd2 = memfd_create("b", MFD_CLOEXEC);

	tb_open(&t);
	tb_dir(&t, "d/");
	tb_file(&t, "d/f", "hello");
	tb_hardlink(&t, "d/g", "d/f");
	tb_symlink(&t, "l", "d/f");
	tb_add(&t, "x", AE_IFREG, 0600, "", NULL, false);
	ok(apply_fd(src, tb_done(&t), unpriv(), &err) == 0, "source tree");
	berth_error_freep(&err);

	int sfd = dirfd_of(src), dfd = dirfd_of(dst);
	ok(berth_tar_write_dir(sfd, fd1, &err) == 0, "export the tree (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	lseek(fd1, 0, SEEK_SET);
	struct berth_tar_stats st;
	ok(berth_tar_apply(dfd, fd1, unpriv(), NULL, &st, &err) == 0, "apply the export");
	berth_error_freep(&err);
	ok(st.entries == 5, "five entries (%llu)", (unsigned long long)st.entries);
	ok(st.size == strlen("hello") + strlen("d/f"), "size counts a hard link once (%llu)",
	   (unsigned long long)st.size);
	ok(berth_tar_write_dir(dfd, fd2, NULL) == 0, "export the copy");
	off_t n1 = lseek(fd1, 0, SEEK_END), n2 = lseek(fd2, 0, SEEK_END);
	char *b1 = malloc((size_t)n1), *b2 = malloc((size_t)n2);
	ok(n1 == n2 && pread(fd1, b1, (size_t)n1, 0) == n1 && pread(fd2, b2, (size_t)n2, 0) == n2 &&
		   memcmp(b1, b2, (size_t)n1) == 0,
	   "export -> apply -> export gives the same bytes");
	char digest[BERTH_DIGEST_SIZE];
	berth_sha256_digest(b1, (size_t)n1, digest);
	is_str(st.diff_id, digest, "the apply's diff id is the sha256 of the tar");
	free(b1);
	free(b2);
	close(fd1);
	close(fd2);
	close(sfd);
	close(dfd);
	free(src);
	free(dst);
}

/* ---- the store -------------------------------------------------------------------------- */

static int import_tree(struct berth_image_store *s, const char *content, const char *ref,
		       char **ret_id)
{
	struct tb t;
	struct berth_error *err = NULL;
	json_t *config = json_pack("{s:s, s:s, s:s, s:[{s:s}]}", "architecture", "amd64", "os",
				   "linux", "comment", content, "history", "created_by", content);
	int r;

	tb_open(&t);
	tb_file(&t, "content", content);
	int fd = tb_done(&t);
	r = berth_image_import(s, fd, config, ref, NULL, ret_id, &err);
	if (r < 0)
		printf("# import: %s\n", err ? err->msg : "?");
	berth_error_free(err);
	json_decref(config);
	close(fd);
	return r;
}

struct fake_users {
	const char *running_image, *stopped_image;
};

static int fake_find(void *ud, const char *image_id, enum berth_image_use which, char **ret)
{
	struct fake_users *u = ud;
	if (which != BERTH_IMAGE_USED_BY_STOPPED && berth_streq(u->running_image, image_id)) {
		*ret = strdup("c0ffee000000running");
		return 1;
	}
	if (which != BERTH_IMAGE_USED_BY_RUNNING && berth_streq(u->stopped_image, image_id)) {
		*ret = strdup("deadbeef0000stopped");
		return 1;
	}
	return 0;
}

static bool has_item(struct berth_image_deleted *d, size_t n, enum berth_image_deleted_kind k,
		     const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].kind == k && !strcmp(d[i].value, v))
			return true;
	return false;
}

static void test_store(void)
{
	char *root = tp("store");
	struct berth_image_store *s = NULL, *s2 = NULL;
	struct berth_error *err = NULL;
	char *a = NULL, *b = NULL, *id = NULL, *d = NULL;
	struct berth_image_deleted *del = NULL;
	size_t ndel = 0;
	struct fake_users fu = {0};
	struct berth_image_users users = {fake_find, &fu, NULL};

	berth_rm_rf(root, NULL);
	ok(berth_image_store_open(root, NULL, &s, &err) == 0, "open a new store (%s)",
	   err ? err->msg : "ok");
	berth_error_freep(&err);
	ok(berth_image_store_open(root, NULL, &s2, &err) == -EBUSY, "a second open is EBUSY (%s)",
	   err ? err->msg : "");
	berth_error_freep(&err);

	/* blobs */
	ok(berth_blob_write(
		   s, "hello", 5,
		   "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", NULL,
		   NULL, &err) == -EINVAL,
	   "a blob whose content does not match its digest is refused");
	berth_error_freep(&err);
	ok(count_in("store/blobs/sha256") == 0, "... and nothing is stored");
	ok(count_in("store/tmp") == 0, "... and no temporary file is left");
	ok(berth_blob_write(s, "a", 1, NULL, NULL, &d, NULL) == 0 &&
		   berth_streq(d,
			       "sha256:"
			       "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
	   "write a blob");
	ok(berth_blob_exists(s, d), "the blob exists");
	char *data = NULL;
	ok(berth_blob_read(s, d, 10, &data, NULL, NULL) == 0 && berth_streq(data, "a"), "read it");
	free(data);
	{
		char *p = tp("store/blobs/sha256/"
			     "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
		chmod(p, 0644);
		berth_write_file_atomic_at(AT_FDCWD, p, "b", 1, 0644, NULL);
		ok(berth_blob_read(s, d, 10, &data, NULL, &err) == -EIO,
		   "a blob changed on disk is EIO (%s)", err ? err->msg : "");
		berth_error_freep(&err);
		free(p);
	}
	ok(berth_blob_delete(s, d, NULL) == 0 && !berth_blob_exists(s, d), "delete the blob");
	free(d);
	d = NULL;

	/* images */
	ok(import_tree(s, "one", "one:1", &a) == 0, "import image one");
	ok(import_tree(s, "two", "two", &b) == 0, "import image two");
	ok(berth_image_resolve(s, "one:1", &id, NULL) == 0 && berth_streq(id, a),
	   "resolve name:tag");
	free(id);
	ok(berth_image_resolve(s, "two", &id, NULL) == 0 && berth_streq(id, b),
	   "resolve a short name (:latest)");
	free(id);
	ok(berth_image_resolve(s, "docker.io/library/two:latest", &id, NULL) == 0 &&
		   berth_streq(id, b),
	   "resolve a full reference");
	free(id);
	ok(berth_image_resolve(s, a, &id, NULL) == 0 && berth_streq(id, a), "resolve a full id");
	free(id);
	ok(berth_image_resolve(s, a + 7, &id, NULL) == 0 && berth_streq(id, a),
	   "resolve a bare 64-hex id");
	free(id);
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "%.10s", a + 7);
	ok(berth_image_resolve(s, prefix, &id, NULL) == 0 && berth_streq(id, a),
	   "resolve a short id prefix");
	free(id);
	snprintf(prefix, sizeof(prefix), "sha256:%.10s", a + 7);
	ok(berth_image_resolve(s, prefix, &id, NULL) == 0 && berth_streq(id, a),
	   "resolve sha256:<prefix>");
	free(id);
	ok(berth_image_resolve(s, "nope", &id, &err) == -ENOENT &&
		   !strcmp(err->msg, "No such image: nope:latest"),
	   "unknown name: docker's message (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	ok(berth_image_resolve(s, "Nope", &id, &err) == -EINVAL, "malformed reference: EINVAL");
	berth_error_freep(&err);

	/* an ambiguous prefix: import until two ids share their first digit */
	{
		char *ids[20] = {0};
		int amb = -1, other = -1;
		for (int i = 0; i < 20 && amb < 0; i++) {
			char content[16];
			snprintf(content, sizeof(content), "amb%d", i);
			import_tree(s, content, NULL, &ids[i]);
			for (int k = 0; k < i && amb < 0; k++)
				if (ids[k] && ids[i] && ids[k][7] == ids[i][7] &&
				    ids[k][7] != a[7] && ids[k][7] != b[7]) {
					amb = i;
					other = k;
				}
		}
		if (amb >= 0) {
			char one[2] = {ids[amb][7], 0};
			ok(berth_image_resolve(s, one, &id, &err) == -ENOENT,
			   "an ambiguous prefix finds nothing");
			berth_error_freep(&err);
			(void)other;
		} else {
			ok(1, "no two ids shared a first digit (skipped)");
		}
		for (int i = 0; i < 20; i++) {
			if (!ids[i])
				continue;
			ok(berth_image_delete(s, ids[i], 0, NULL, &del, &ndel, NULL) == 0,
			   "remove helper image %d", i);
			berth_image_deleted_free(del, ndel);
			free(ids[i]);
		}
	}

	/* tags */
	ok(berth_image_tag(s, "one:1", "copy:x", NULL) == 0, "tag one:1 as copy:x");
	ok(berth_image_tag(
		   s, "one:1",
		   "copy@sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
		   &err) == -EINVAL &&
		   !strcmp(err->msg, "refusing to create a tag with a digest reference"),
	   "a digest as tag target is refused");
	berth_error_freep(&err);
	ok(berth_image_tag(s, "one:1", "sha256:x", &err) == -EINVAL &&
		   !strcmp(err->msg,
			   "refusing to create an ambiguous tag using digest algorithm as name"),
	   "the name sha256 is refused");
	berth_error_freep(&err);
	ok(berth_image_tag(s, "missing", "x", &err) == -ENOENT, "tag of a missing image: ENOENT");
	berth_error_freep(&err);
	struct berth_image_info *info = NULL;
	ok(berth_image_inspect(s, "copy:x", &info, NULL) == 0 && info->repo_tags[0] &&
		   info->repo_tags[1] && !strcmp(info->repo_tags[0], "copy:x") &&
		   !strcmp(info->repo_tags[1], "one:1") && !info->repo_tags[2],
	   "inspect lists both tags, familiar and sorted");
	ok(info && info->size == 3 && info->layers[0] && info->top_layer &&
		   !strcmp(info->layers[0], info->top_layer) && info->last_tag_time,
	   "inspect: size, layers, last tag time");
	berth_image_info_free(info);

	/* name@digest, as a pull by digest records it */
	const char *mdigest =
		"sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";
	ok(berth_image_set_digest_ref(s, "copy:x", mdigest, a, NULL) == 0, "record copy@digest");
	char byd[128];
	snprintf(byd, sizeof(byd), "copy@%s", mdigest);
	ok(berth_image_resolve(s, byd, &id, NULL) == 0 && berth_streq(id, a),
	   "resolve name@digest");
	free(id);
	snprintf(byd, sizeof(byd), "copy:x@%s", mdigest);
	ok(berth_image_resolve(s, byd, &id, NULL) == 0 && berth_streq(id, a),
	   "resolve name:tag@digest (the digest wins)");
	free(id);
	snprintf(byd, sizeof(byd), "other@%s", mdigest);
	ok(berth_image_resolve(s, byd, &id, &err) == -ENOENT,
	   "another name with that digest: ENOENT");
	berth_error_freep(&err);
	ok(berth_image_inspect(s, a, &info, NULL) == 0 && info->repo_digests[0] &&
		   !strncmp(info->repo_digests[0], "copy@sha256:3e23", 16) &&
		   !info->repo_digests[1],
	   "inspect lists the repo digest, familiar");
	berth_image_info_free(info);
	ok(berth_image_set_digest_ref(s, "copy", "md5:x", a, &err) == -EINVAL,
	   "a bad digest is refused");
	berth_error_freep(&err);
	ok(berth_image_set_digest_ref(s, "copy", mdigest, "sha256:nope", &err) == -ENOENT,
	   "an unknown image is refused");
	berth_error_freep(&err);

	/* the index survives a reopen; leftovers of a crash are removed */
	berth_image_store_free(s);
	s = NULL;
	char *junk = tp("store/tmp/blob-junk");
	berth_write_file_atomic_at(AT_FDCWD, junk, "j", 1, 0600, NULL);
	char *staging = tp("store/layers/.staging-junk");
	mkdir(staging, 0700);
	ok(berth_image_store_open(root, NULL, &s, NULL) == 0, "reopen");
	ok(!exists_at(tmproot, "store/tmp/blob-junk"),
	   "a temporary file left by a crash is removed");
	ok(!exists_at(tmproot, "store/layers/.staging-junk"), "a staging directory is removed");
	free(junk);
	free(staging);
	ok(berth_image_resolve(s, "copy:x", &id, NULL) == 0 && berth_streq(id, a),
	   "tags survive a reopen");
	free(id);

	/* untag and delete: docker's rules */
	ok(berth_image_delete(s, "copy:x", 0, &users, &del, &ndel, NULL) == 0 && ndel == 2 &&
		   has_item(del, ndel, BERTH_IMAGE_UNTAGGED, "copy:x") &&
		   has_item(del, ndel, BERTH_IMAGE_UNTAGGED,
			    "copy@sha256:"
			    "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"),
	   "rmi of a repository's last tag takes its digest references too");
	berth_image_deleted_free(del, ndel);
	ok(berth_image_untag(s, "copy:x", &err) == -ENOENT, "untag again: ENOENT");
	berth_error_freep(&err);
	ok(berth_image_tag(s, "one:1", "alias:1", NULL) == 0, "tag alias:1");
	ok(berth_image_delete(s, "alias:1", 0, &users, &del, &ndel, NULL) == 0 && ndel == 1 &&
		   has_item(del, ndel, BERTH_IMAGE_UNTAGGED, "alias:1"),
	   "rmi of one of two tags only untags");
	berth_image_deleted_free(del, ndel);
	ok(berth_image_resolve(s, a, &id, NULL) == 0, "the image stays");
	free(id);

	fu.stopped_image = a;
	ok(berth_image_delete(s, "one:1", 0, &users, &del, &ndel, &err) == -EBUSY &&
		   strstr(err->msg, "conflict: unable to remove repository reference \"one:1\" "
				    "(must force) - container deadbeef0000 is using its referenced "
				    "image"),
	   "the last tag of an image a stopped container uses: conflict (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	char idshort[16];
	snprintf(idshort, sizeof(idshort), "%.12s", a + 7);
	ok(berth_image_delete(s, a, 0, &users, &del, &ndel, &err) == -EBUSY &&
		   strstr(err->msg, "(must be forced) - image is being used by stopped container "
				    "deadbeef0000"),
	   "rmi by id of a used image: must be forced (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	fu.stopped_image = NULL;
	fu.running_image = a;
	ok(berth_image_delete(s, a, BERTH_IMAGE_DELETE_FORCE, &users, &del, &ndel, &err) ==
			   -EBUSY &&
		   strstr(err->msg, "(cannot be forced) - image is being used by running container "
				    "c0ffee000000"),
	   "a running container's image cannot be forced (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	fu.running_image = NULL;

	/* children */
	char *child = NULL;
	{
		json_t *cfg = NULL;
		ok(berth_image_config(s, a, &cfg, NULL) == 0, "read one's config");
		json_object_set_new(cfg, "comment", json_string("child"));
		char *text = json_dumps(cfg, JSON_COMPACT);
		ok(berth_blob_write(s, text, strlen(text), NULL, NULL, &child, NULL) == 0,
		   "write a child's config");
		ok(berth_image_add(s, child, a, NULL, &err) == 0, "add a child image (%s)",
		   err ? err->msg : "");
		berth_error_freep(&err);
		free(text);
		json_decref(cfg);
	}
	ok(berth_image_delete(s, a, BERTH_IMAGE_DELETE_FORCE, &users, &del, &ndel, &err) ==
			   -EBUSY &&
		   strstr(err->msg, "(cannot be forced) - image has dependent child images"),
	   "an image with children cannot be deleted (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	struct berth_image_history *h = NULL;
	size_t nh = 0;
	ok(berth_image_history(s, child, &h, &nh, NULL) == 0 && nh == 1 && h[0].size == 3 &&
		   !strcmp(h[0].id, child) && !strcmp(h[0].created_by, "one"),
	   "history of the child");
	berth_image_history_free(h, nh);
	/* deleting the untagged child prunes its now-untagged parent too... unless tagged */
	ok(berth_image_delete(s, child, 0, &users, &del, &ndel, NULL) == 0 &&
		   has_item(del, ndel, BERTH_IMAGE_DELETED, child) &&
		   !has_item(del, ndel, BERTH_IMAGE_DELETED, a),
	   "rmi of the child keeps its tagged parent");
	berth_image_deleted_free(del, ndel);
	free(child);

	/* gc keeps what containers hold */
	struct berth_image_info *ia = NULL;
	berth_image_inspect(s, a, &ia, NULL);
	const char *held[] = {ia ? ia->top_layer : NULL, NULL};
	struct berth_image_users holding = {NULL, NULL, held};
	ok(berth_image_delete(s, "one:1", 0, &holding, &del, &ndel, NULL) == 0 &&
		   has_item(del, ndel, BERTH_IMAGE_UNTAGGED, "one:1") &&
		   has_item(del, ndel, BERTH_IMAGE_DELETED, a) &&
		   !has_item(del, ndel, BERTH_IMAGE_DELETED, ia->top_layer),
	   "rmi of the last tag deletes the image; a held layer is not deleted");
	berth_image_deleted_free(del, ndel);
	struct berth_layer_info *li = NULL;
	ok(berth_layer_inspect(s, ia->top_layer, &li, NULL) == 0, "the held layer stays");
	ok(li && berth_blob_exists(s, li->blob), "... with its blob");
	size_t removed = 0;
	ok(berth_image_gc(s, NULL, &removed, NULL) == 0 && removed == 2,
	   "gc without holders removes the layer and its blob (%zu)", removed);
	ok(berth_layer_inspect(s, ia->top_layer, &li, &err) == -ENOENT, "the layer is gone");
	berth_error_freep(&err);
	berth_layer_info_free(li);
	berth_image_info_free(ia);

	/* prune: dangling only */
	ok(berth_image_untag(s, "two", NULL) == 0, "untag two: it dangles");
	uint64_t reclaimed = 0;
	ok(berth_image_prune(s, false, NULL, NULL, &users, &del, &ndel, &reclaimed, NULL) == 0 &&
		   has_item(del, ndel, BERTH_IMAGE_DELETED, b) && reclaimed == 3,
	   "prune removes the dangling image (%llu bytes)", (unsigned long long)reclaimed);
	berth_image_deleted_free(del, ndel);

	/* a corrupt index refuses to open rather than lose images */
	berth_image_store_free(s);
	s = NULL;
	char *index = tp("store/images.json");
	berth_write_file_atomic_at(AT_FDCWD, index, "{\"version\":1", 12, 0600, NULL);
	ok(berth_image_store_open(root, NULL, &s, &err) == -EINVAL,
	   "a corrupt images.json: EINVAL (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	free(index);
	free(a);
	free(b);
	berth_rm_rf(root, NULL);
	free(root);
}

/* ---- threads: imports racing gc and deletes ------------------------------------------- */

struct racer {
	struct berth_image_store *s;
	int n;
	int failures;
	char *ids[8];
};

/* A gzip layer tar holding one file, as a blob of the store; *ret_diff_id its uncompressed sha256. */
static char *staged_blob(struct berth_image_store *s, const char *name, const char *data,
			 char ret_diff_id[BERTH_DIGEST_SIZE])
{
	struct tb t, plain;
	char *raw = NULL, *digest = NULL;
	size_t len = 0;
	int fd;

	tb_open(&plain);
	tb_file(&plain, name, data);
	fd = tb_done(&plain);
	if (berth_read_fd(fd, 1 << 20, &raw, &len, NULL) < 0)
		abort();
	berth_sha256_digest(raw, len, ret_diff_id);
	free(raw);
	close(fd);
	tb_open_filter(&t, 1);
	tb_file(&t, name, data);
	fd = tb_done(&t);
	if (berth_read_fd(fd, 1 << 20, &raw, &len, NULL) < 0 ||
	    berth_blob_write(s, raw, len, NULL, NULL, &digest, NULL) < 0)
		abort();
	free(raw);
	close(fd);
	return digest;
}

static void test_staged_layers(void)
{
	char *root = tp("staged");
	struct berth_image_store *s = NULL;
	struct berth_image_lease *l = NULL;
	struct berth_layer_staged *st0 = NULL, *st1 = NULL, *st2 = NULL;
	struct berth_layer_info *info = NULL;
	struct berth_error *err = NULL;
	char d0[BERTH_DIGEST_SIZE], d1[BERTH_DIGEST_SIZE], chain1[BERTH_DIGEST_SIZE], buf[160];
	char *b0, *b1, *p;

	berth_rm_rf(root, NULL);
	if (berth_image_store_open(root, NULL, &s, NULL) < 0 ||
	    berth_image_lease_new(s, &l, NULL) < 0)
		abort();
	b0 = staged_blob(s, "zero", "0\n", d0);
	b1 = staged_blob(s, "one", "1\n", d1);

	/* the upper layer first: unpacking needs no parent */
	is(berth_layer_unpack_blob(s, b1, d1, l, NULL, &st1, &err), 0,
	   "unpack the upper layer first");
	is(berth_layer_unpack_blob(s, b0, d0, l, NULL, &st0, &err), 0, "then the bottom one");
	is(berth_layer_unpack_blob(s, b0, d1, l, NULL, &st2, &err), -EINVAL,
	   "a diff id that is not the tar's is refused");
	ok(err && strstr(err->msg, "diff id mismatch"), "named (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	is(count_in("staged/layers"), 2, "two staging directories, nothing else");
	is(berth_layer_commit(s, st1, d0, l, NULL, &err), -ENOENT,
	   "committing on a parent that is not there yet is ENOENT");
	berth_error_freep(&err);
	is(berth_layer_commit(s, st0, NULL, l, NULL, &err), 0, "commit the bottom layer");
	is(berth_layer_commit(s, st1, d0, l, &info, &err), 0, "then the upper on it");
	snprintf(buf, sizeof(buf), "%s %s", d0, d1);
	berth_sha256_digest(buf, strlen(buf), chain1);
	ok(info && !strcmp(info->chain_id, chain1) && !strcmp(info->parent, d0) &&
		   !strcmp(info->blob, b1),
	   "its chain id, parent and blob");
	p = info ? tp("staged/layers") : NULL;
	if (info) {
		char rel[200];
		snprintf(rel, sizeof(rel), "staged/layers/%s/diff/one", chain1 + 7);
		char *one = tp(rel);
		ok(access(one, F_OK) == 0, "its file is in place");
		free(one);
	}
	free(p);
	berth_layer_info_free(info);
	berth_layer_staged_free(st0);
	berth_layer_staged_free(st1);
	is(count_in("staged/layers"), 2, "no staging directory left");
	berth_image_lease_release(l, true);
	is(count_in("staged/layers"), 0, "rolled back: the layers went with the lease");
	free(b0);
	free(b1);
	berth_image_store_free(s);
	free(root);
}

static void *importer(void *arg)
{
	struct racer *r = arg;
	for (int i = 0; i < 8; i++) {
		char content[32], ref[32];
		snprintf(content, sizeof(content), "t%d-%d", r->n, i);
		snprintf(ref, sizeof(ref), "race%d:%d", r->n, i);
		if (import_tree(r->s, content, ref, &r->ids[i]) < 0)
			r->failures++;
	}
	return NULL;
}

static volatile int racing;

static void *collector(void *arg)
{
	struct racer *r = arg;
	while (__atomic_load_n(&racing, __ATOMIC_SEQ_CST)) {
		struct berth_image_deleted *d = NULL;
		size_t n = 0;
		uint64_t rec = 0;
		if (berth_image_gc(r->s, NULL, NULL, NULL) < 0)
			r->failures++;
		/* dangling images only: the importers' are all tagged */
		if (berth_image_prune(r->s, false, NULL, NULL, NULL, &d, &n, &rec, NULL) < 0)
			r->failures++;
		berth_image_deleted_free(d, n);
	}
	return NULL;
}

static void test_threads(void)
{
	char *root = tp("threads");
	struct berth_image_store *s = NULL;
	struct racer r[4] = {{0}}, gc = {0};
	pthread_t t[4], g;

	berth_rm_rf(root, NULL);
	ok(berth_image_store_open(root, NULL, &s, NULL) == 0, "open a store for threads");
	gc.s = s;
	racing = 1;
	pthread_create(&g, NULL, collector, &gc);
	for (int i = 0; i < 4; i++) {
		r[i].s = s;
		r[i].n = i;
		pthread_create(&t[i], NULL, importer, &r[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&racing, 0, __ATOMIC_SEQ_CST);
	pthread_join(g, NULL);
	int failures = gc.failures, missing = 0;
	for (int i = 0; i < 4; i++) {
		failures += r[i].failures;
		for (int k = 0; k < 8; k++) {
			struct berth_image_info *info = NULL;
			struct berth_layer_info *li = NULL;
			if (!r[i].ids[k] || berth_image_inspect(s, r[i].ids[k], &info, NULL) < 0 ||
			    berth_layer_inspect(s, info->top_layer, &li, NULL) < 0 ||
			    !berth_blob_exists(s, li->blob) || !berth_blob_exists(s, info->id))
				missing++;
			berth_image_info_free(info);
			berth_layer_info_free(li);
			free(r[i].ids[k]);
		}
	}
	ok(failures == 0, "4 importers, a gc and a prune ran together without an error");
	ok(missing == 0, "every image, its layer and its blobs survived the collector (%d missing)",
	   missing);
	size_t removed = 99;
	ok(berth_image_gc(s, NULL, &removed, NULL) == 0 && removed == 0,
	   "and nothing is left over (%zu)", removed);
	berth_image_store_free(s);
	berth_rm_rf(root, NULL);
	free(root);
}

/* ---- inside a root: lookups, unpacking into a live tree, tars of one path ---------------- */

static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void test_in_root(bool walk)
{
	_cleanup_free_ char *box = fresh_dir("inroot"), *root = NULL, *outside = NULL, *p = NULL;
	int rfd, fd = -1, r;
	struct berth_error *e = NULL;
	const char *mode = walk ? "walk" : "openat2";

	berth_root_force_walk = walk;
	if (asprintf(&root, "%s/root", box) < 0 || asprintf(&outside, "%s/secret", box) < 0)
		abort();
	mkdir(root, 0755);
	berth_write_file_atomic_at(AT_FDCWD, outside, "host", 4, 0644, NULL);
	rfd = dirfd_of(root);
	mkdirat(rfd, "d", 0755);
	berth_write_file_atomic_at(rfd, "secret", "inside", 6, 0644, NULL);
	berth_write_file_atomic_at(rfd, "d/f", "f", 1, 0644, NULL);
	symlinkat("/", rfd, "x");
	symlinkat("../../..", rfd, "y");
	symlinkat("../secret", rfd, "d/up");
	symlinkat("/d/f", rfd, "abs");

	const char *inside[][2] = {
		{"x/secret", "secret"}, {"y/secret", "secret"},		 {"../../secret", "secret"},
		{"d/up", "secret"},	{"x/y/x/d/../secret", "secret"}, {"abs", "d/f"},
		{"/d/./f", "d/f"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(inside); i++) {
		free(p);
		if (asprintf(&p, "%s/%s", root, inside[i][1]) < 0)
			abort();
		r = berth_open_in_root(rfd, inside[i][0], O_RDONLY, &fd, &e);
		ok(r == 0 && same_file(fd, p), "%s: '%s' resolves to '/%s' inside", mode,
		   inside[i][0], inside[i][1]);
		if (fd >= 0)
			close(fd);
		fd = -1;
		berth_error_free(e);
		e = NULL;
	}
	r = berth_open_in_root(rfd, "abs", O_PATH | O_NOFOLLOW, &fd, &e);
	free(p);
	if (asprintf(&p, "%s/abs", root) < 0)
		abort();
	ok(r == 0 && same_file(fd, p), "%s: O_NOFOLLOW opens the symlink itself", mode);
	if (fd >= 0)
		close(fd);
	r = berth_open_in_root(rfd, "x/missing", O_RDONLY, &fd, &e);
	is(r, -ENOENT, "%s: a missing path is ENOENT", mode);
	berth_error_free(e);
	e = NULL;
	close(rfd);
	berth_root_force_walk = false;
}

static void test_apply_into(void)
{
	_cleanup_free_ char *dir = fresh_dir("into");
	struct berth_tar_apply_opts opts = {.flags = unpriv()};
	struct berth_error *e = NULL;
	struct tb t;
	int dfd = dirfd_of(dir), r;

	/* a hostile member after a good one: refused before anything is written */
	tb_open(&t);
	tb_file(&t, "good", "1");
	tb_file(&t, "../evil", "2");
	r = berth_tar_apply_into(dfd, tb_done(&t), &opts, NULL, &e);
	ok(r < 0 && e && strstr(e->msg, "leaves the root"), "apply_into refuses '../evil': %s",
	   e ? e->msg : "");
	ok(!exists_at(dir, "good"), "apply_into wrote nothing of a refused tar");
	berth_error_free(e);
	e = NULL;
	close(t.fd);

	tb_open(&t);
	tb_dir(&t, ".");
	tb_file(&t, "a/b", "ab");
	r = berth_tar_apply_into(dfd, tb_done(&t), &opts, NULL, &e);
	ok(r == 0 && exists_at(dir, "a/b"), "apply_into makes missing parents");
	close(t.fd);

	opts.no_overwrite_dir_non_dir = true;
	tb_open(&t);
	tb_file(&t, "a", "not a dir");
	r = berth_tar_apply_into(dfd, tb_done(&t), &opts, NULL, &e);
	ok(r < 0 && e && strstr(e->msg, "cannot overwrite directory"),
	   "noOverwriteDirNonDir refuses a file over a directory");
	berth_error_free(e);
	e = NULL;
	close(t.fd);
	close(dfd);
}

static void test_write_path(void)
{
	_cleanup_free_ char *dir = fresh_dir("wpath"), *out = NULL;
	int dfd, fd;
	struct berth_error *e = NULL;
	struct archive *a;
	struct archive_entry *ent;
	char names[256] = "";

	dfd = dirfd_of(dir);
	mkdirat(dfd, "b", 0755);
	berth_write_file_atomic_at(dfd, "b/x", "x", 1, 0644, NULL);
	mkfifoat(dfd, "b/y", 0644);
	if (asprintf(&out, "%s/out.tar", tmproot) < 0)
		abort();
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok(berth_tar_write_path(dfd, "b", "renamed", fd, &e) == 0, "write_path of a directory");
	lseek(fd, 0, SEEK_SET);
	a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_open_fd(a, fd, 10240);
	while (archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		size_t n = strlen(names);
		snprintf(names + n, sizeof(names) - n, "%s%s", n ? " " : "",
			 archive_entry_pathname(ent));
	}
	archive_read_free(a);
	is_str(names, "renamed/ renamed/x renamed/y", "the entries carry the name asked for");
	close(fd);
	close(dfd);
}

int main(void)
{
	if (!mkdtemp(tmproot)) {
		perror("mkdtemp");
		return 1;
	}
	test_references();
	test_digests();
	test_documents();
	test_names();
	test_hostile(false);
	test_hostile(true);
	test_in_root(false);
	test_in_root(true);
	test_apply_into();
	test_write_path();
	test_apply();
	test_whiteouts();
	test_round_trip();
	test_store();
	test_staged_layers();
	test_threads();
	berth_rm_rf(tmproot, NULL);
	return done_testing();
}
