/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container names: docker's rule for a valid one, and random ones in docker's shape
 * ("adjective_surname", a digit added when a retry is needed).  The word lists are berth's own:
 * adjectives, and surnames of scientists, engineers and mathematicians.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "containers-internal.h"
#include "base/banned.h"

static const char *const adjectives[] = {
	"agile",    "amazing", "ample",	  "ardent",   "bold",	 "brave",   "bright",  "brisk",
	"calm",	    "candid",  "careful", "cheerful", "clever",	 "cool",    "crisp",   "curious",
	"daring",   "deft",    "eager",	  "earnest",  "elated",	 "elegant", "epic",    "exact",
	"fair",	    "fervent", "fond",	  "frank",    "gallant", "gentle",  "glad",    "grand",
	"happy",    "hardy",   "hopeful", "humble",   "jolly",	 "keen",    "kind",    "lively",
	"loyal",    "lucid",   "merry",	  "mindful",  "modest",	 "nifty",   "noble",   "patient",
	"placid",   "plucky",  "polite",  "proud",    "quick",	 "quiet",   "radiant", "rapid",
	"ready",    "serene",  "sharp",	  "sincere",  "snappy",	 "spry",    "steady",  "stoic",
	"sunny",    "swift",   "tender",  "tidy",     "trusty",	 "upbeat",  "valiant", "vibrant",
	"vigilant", "vivid",   "warm",	  "wise",     "witty",	 "zealous", "zen",
};

static const char *const surnames[] = {
	"agnesi",     "ampere",	    "archimedes", "avogadro",	"babbage",    "banach",
	"bardeen",    "bernoulli",  "bohr",	  "boltzmann",	"boole",      "born",
	"brahe",      "cantor",	    "carnot",	  "cauchy",	"cavendish",  "chandrasekhar",
	"chebyshev",  "copernicus", "coulomb",	  "curie",	"darwin",     "dedekind",
	"descartes",  "dijkstra",   "dirac",	  "doppler",	"euclid",     "euler",
	"faraday",    "fermat",	    "fermi",	  "feynman",	"fibonacci",  "fourier",
	"franklin",   "galileo",    "galois",	  "gauss",	"germain",    "gibbs",
	"godel",      "hamilton",   "hamming",	  "hawking",	"heisenberg", "hertz",
	"hilbert",    "hodgkin",    "hooke",	  "hopper",	"huygens",    "hypatia",
	"jacobi",     "joule",	    "kelvin",	  "kepler",	"kirchhoff",  "knuth",
	"kolmogorov", "lagrange",   "lamarr",	  "laplace",	"leibniz",    "lovelace",
	"lorentz",    "maxwell",    "meitner",	  "mendel",	"mirzakhani", "napier",
	"neumann",    "newton",	    "noether",	  "ohm",	"pascal",     "pasteur",
	"pauli",      "planck",	    "poincare",	  "ptolemy",	"ramanujan",  "riemann",
	"ritchie",    "rutherford", "shannon",	  "somerville", "stokes",     "tesla",
	"thompson",   "turing",	    "volta",	  "watt",	"wiles",      "yalow",
};

bool ctr_name_valid(const char *name)
{
	const char *s = name[0] == '/' ? name + 1 : name;
	size_t n = strlen(s);

	if (n < 2)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (i == 0 ? !alnum : !(alnum || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

char *ctr_name_random(unsigned retry)
{
	unsigned r[3] = {0};
	char *out = NULL;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		r[0] = (unsigned)random();
		r[1] = (unsigned)random();
		r[2] = (unsigned)random();
	}
	const char *a = adjectives[r[0] % ARRAY_SIZE(adjectives)];
	const char *s = surnames[r[1] % ARRAY_SIZE(surnames)];
	int n = retry ? asprintf(&out, "%s_%s%u", a, s, r[2] % 10) : asprintf(&out, "%s_%s", a, s);
	return n < 0 ? NULL : out;
}
