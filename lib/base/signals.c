/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "banned.h"

static const char *const names[] = {
	[SIGHUP] = "HUP",   [SIGINT] = "INT",	    [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
	[SIGTRAP] = "TRAP", [SIGABRT] = "ABRT",	    [SIGBUS] = "BUS",	[SIGFPE] = "FPE",
	[SIGKILL] = "KILL", [SIGUSR1] = "USR1",	    [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
	[SIGPIPE] = "PIPE", [SIGALRM] = "ALRM",	    [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
	[SIGCHLD] = "CHLD", [SIGCONT] = "CONT",	    [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
	[SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU",	    [SIGURG] = "URG",	[SIGXCPU] = "XCPU",
	[SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
	[SIGIO] = "IO",	    [SIGPWR] = "PWR",	    [SIGSYS] = "SYS",
};

const char *berth_signal_name(int sig)
{
	if (sig > 0 && (size_t)sig < ARRAY_SIZE(names))
		return names[sig];
	return NULL;
}

int berth_signal_parse(const char *s)
{
	int64_t n;

	if (!s || !*s)
		return -EINVAL;
	if (berth_parse_int64(s, 1, SIGRTMAX, &n) == 0)
		return (int)n;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 1; i < ARRAY_SIZE(names); i++)
		if (names[i] && strcasecmp(s, names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "IOT") == 0)
		return SIGABRT;
	if (strcasecmp(s, "CLD") == 0)
		return SIGCHLD;
	if (strcasecmp(s, "POLL") == 0)
		return SIGIO;
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		bool min = strncasecmp(s, "RTMIN", 5) == 0;
		int base = min ? SIGRTMIN : SIGRTMAX;
		if (s[5] == '\0')
			return base;
		if ((min && s[5] != '+') || (!min && s[5] != '-'))
			return -EINVAL;
		if (berth_parse_int64(s + 6, 1, SIGRTMAX - SIGRTMIN, &n) < 0)
			return -EINVAL;
		return min ? base + (int)n : base - (int)n;
	}
	return -EINVAL;
}

void berth_signal_forwardable(sigset_t *ret)
{
	sigemptyset(ret);
	for (int s = 1; s < SIGRTMIN; s++) {
		switch (s) {
		case SIGKILL:
		case SIGSTOP:
		case SIGSEGV:
		case SIGBUS:
		case SIGFPE:
		case SIGILL:
		case SIGTRAP:
		case SIGABRT:
		case SIGSYS:
		case SIGCHLD:
		case SIGWINCH:
			break;
		default:
			sigaddset(ret, s);
		}
	}
}
