// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sandbox.c: the system call filter a daemon installs on itself once its
 * backing store is open, its I/O threads run and its socket listens.  From
 * then on it only talks to front ends, maps their memory and does I/O on
 * files it already holds, so it needs no open(), no exec, no new sockets
 * and no ptrace.  A call outside the list fails with EPERM and is logged
 * with its number; the daemon carries on.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <ucontext.h>

#include <linux/fs.h>

#include "log.h"
#include "sandbox.h"
#include "util.h"

#ifdef HAVE_LIBSECCOMP
#include <seccomp.h>

/* What a serving daemon calls, in either engine, plus libc's own needs. */
static const char *const allowed[] = {
	/* front-end socket, eventfds, signalfd, log */
	"read", "write", "readv", "writev", "recvmsg", "sendmsg", "recvfrom",
	"sendto", "accept4", "accept", "getsockopt", "shutdown", "close",
	"poll", "ppoll", "fcntl", "fstat", "newfstatat", "statx", "fstatfs",
	"lseek",
	/* guest memory and the inflight region */
	"mmap", "munmap", "mprotect", "madvise", "mremap", "brk",
	"memfd_create", "ftruncate",
	/* the data path */
	"io_uring_enter", "io_uring_register", "io_submit", "io_getevents",
	"io_pgetevents", "io_cancel", "io_destroy", "epoll_wait",
	"epoll_pwait", "epoll_pwait2", "epoll_ctl", "pread64", "pwrite64",
	"preadv", "pwritev", "preadv2", "pwritev2", "fallocate", "fdatasync",
	"fsync", "timerfd_settime",
	/* threads, time, signals, exit */
	"futex", "sched_yield", "nanosleep", "clock_nanosleep",
	"clock_gettime", "gettimeofday", "getpid", "gettid", "tgkill",
	"rt_sigprocmask", "rt_sigreturn", "rt_sigaction", "sigaltstack",
	"restart_syscall", "set_robust_list", "rseq", "getrandom",
	"exit", "exit_group",
	/* removing our socket at exit */
	"unlink", "unlinkat",
};

/* Async-signal-safe: log the call, make it return -EPERM, carry on. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	char num[16];
	const char *msg[] = { "sandbox: refused system call ", num };
	unsigned int nr = (unsigned int)si->si_syscall;
	size_t k = sizeof(num) - 1;

	num[k] = 0;
	do {
		num[--k] = '0' + nr % 10;
		nr /= 10;
	} while (nr && k);
	msg[1] = num + k;
	vu_log_signal_safe(msg, ARRAY_SIZE(msg));
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = -EPERM;
#else
	(void)uc;
#endif
	(void)sig;
}

/* Trap where we can set the return value ourselves, else plain EPERM. */
static uint32_t default_action(void)
{
#if defined(__x86_64__) || defined(__aarch64__)
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == 0)
		return SCMP_ACT_TRAP;
#endif
	return SCMP_ACT_ERRNO(EPERM);
}

static int add_rules(scmp_filter_ctx f)
{
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		ret = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
		if (ret < 0 && ret != -EEXIST)
			return ret;
	}
	/*
	 * The one ioctl a serving daemon uses: a block device's size, read
	 * again on a rescan (SIGHUP).  Discards go through the engine.
	 */
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				SCMP_A1(SCMP_CMP_EQ, BLKGETSIZE64));
}

int sandbox_enter(void)
{
	scmp_filter_ctx f;
	int ret;

#ifdef HAVE_SANITIZERS
	/* LeakSanitizer stops the world with clone() and ptrace() at exit. */
	log_info("sandbox: no system call filter in a sanitizer build");
	return 0;
#endif
	f = seccomp_init(default_action());
	if (!f)
		return -ENOMEM;
	ret = add_rules(f);
	/* All threads, including the I/O threads already running. */
	if (ret == 0)
		ret = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret == 0)
		ret = seccomp_load(f);
	seccomp_release(f);
	if (ret < 0) {
		log_err("sandbox: cannot install the system call filter: %s",
			strerror(-ret));
		return ret;
	}
	log_info("sandbox: system call filter installed");
	return 0;
}

#else

int sandbox_enter(void)
{
	log_info("sandbox: built without libseccomp, no system call filter");
	return 0;
}

#endif
