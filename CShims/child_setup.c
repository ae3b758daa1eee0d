// The container child: everything between clone3() and execve(), in order.
//
// Rules (see Docs/architecture.md, "The clone boundary"):
//  - async-signal-safe only: raw syscalls, no malloc, no stdio, no libseccomp;
//  - every decision was made in Swift (LaunchPlan, ChildPlan, ChildSteps): a step
//    follows `struct nook_launch` and does nothing its fields did not ask for;
//  - each step reports itself (child_report.c); a failing step ends the child.
// The order is one screen: container_setup and process_setup, below the steps.
#include "child_internal.h"

#include <errno.h>
#include <linux/sched.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// ---- the steps ----------------------------------------------------------------

static void let_go_of_parent_end(const struct nook_launch *l) {
    // clone3 copied the parent's end of the socket: without closing it, our
    // reads could never see EOF if the parent died.
    close(l->parent_sync_fd);
    // If the supervisor dies, so do we (and with PID 1 gone, the whole PID namespace).
    if (l->pdeathsig) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static void wait_for_maps(const struct nook_launch *l) {
    wait_for_parent(l);
    step_done(l, NOOK_STEP_WAIT_MAPS, 0);
}

static void join_namespaces(const struct nook_launch *l) {
    for (size_t i = 0; i < l->n_join; i++) {
        if (setns(l->join_fds[i], l->join_types[i]) < 0) step_fail(l, NOOK_STEP_SETNS, (int)i, errno);
        close(l->join_fds[i]);
        step_done(l, NOOK_STEP_SETNS, (int)i);
    }
}

// A child of nook's (CLONE_PARENT), so that nook waits for it: we report its
// pid (in nook's PID namespace) and leave; the child returns and goes on.
static void fork_as_sibling(const struct nook_launch *l) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PARENT;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) step_fail(l, NOOK_STEP_FORK, 0, errno);
    if (pid > 0) {
        step_report(l, NOOK_MSG_PID, NOOK_STEP_FORK, 0, 0, (int)pid);
        _exit(0);
    }
}

// runc and crun fork here for the same reason; the container's process
// waits until nook has recorded its pid.
static void fork_into_joined_pid_namespace(const struct nook_launch *l) {
    if (!l->fork_after_join) return;
    fork_as_sibling(l);
    if (l->pdeathsig) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); // not inherited
    wait_for_parent(l);
}

static void unshare_cgroup_namespace(const struct nook_launch *l) {
    if (!l->unshare_cgroupns) return;
    if (unshare(CLONE_NEWCGROUP) < 0) step_fail(l, NOOK_STEP_CGROUPNS, 0, errno);
    step_done(l, NOOK_STEP_CGROUPNS, 0);
}

static void set_hostname(const struct nook_launch *l) {
    if (!l->hostname) return;
    if (sethostname(l->hostname, strlen(l->hostname)) < 0) step_fail(l, NOOK_STEP_HOSTNAME, 0, errno);
    step_done(l, NOOK_STEP_HOSTNAME, 0);
}

static void bring_loopback_up(const struct nook_launch *l) {
    if (!l->loopback_up) return;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) step_fail(l, NOOK_STEP_LOOPBACK, 0, errno);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) step_fail(l, NOOK_STEP_LOOPBACK, 0, errno);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) step_fail(l, NOOK_STEP_LOOPBACK, 0, errno);
    close(s);
    step_done(l, NOOK_STEP_LOOPBACK, 0);
}

static void set_rlimits(const struct nook_launch *l) {
    for (size_t i = 0; i < l->n_rlimits; i++) {
        struct rlimit rl = {l->rlimits[i].soft, l->rlimits[i].hard};
        if (setrlimit(l->rlimits[i].resource, &rl) < 0) step_fail(l, NOOK_STEP_RLIMIT, (int)i, errno);
        step_done(l, NOOK_STEP_RLIMIT, (int)i);
    }
}

// Without a pty of its own, the container still leaves the caller's session:
// /dev/tty then opens nothing, and the kernel refuses TIOCSTI on a terminal
// that is not our controlling one (CVE-2017-5226). With a pty, take_console does it.
static void leave_session(const struct nook_launch *l) {
    if (l->new_session) setsid();
}

// Resolved without magic links, so a cwd like /proc/self/fd/N cannot lead
// through a leaked fd out of the container (CVE-2024-21626).
static void enter_cwd(const struct nook_launch *l) {
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) step_fail(l, NOOK_STEP_CHDIR, 0, errno);
    int cwd = nook_openat2_in_root(root, l->cwd.path, O_PATH | O_DIRECTORY, 0);
    if (cwd < 0 || fchdir(cwd) < 0) step_fail(l, NOOK_STEP_CHDIR, 0, errno);
    close(cwd);
    close(root);
    step_done(l, NOOK_STEP_CHDIR, 0);
}

// Its orphans stay its descendants (preserved across execve), which is how
// Nook tells the container's processes from others.
static void become_subreaper(const struct nook_launch *l) {
    if (l->child_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) step_fail(l, NOOK_STEP_SUBREAPER, 0, errno);
}

// No host fd may reach the container (CVE-2024-21626): everything above 0-2
// and the preserved fds closes on exec, the sync socket included, which is
// how the parent learns that execve worked. Always before the filter, which
// need not allow close_range.
static void mark_fds_cloexec_at(const struct nook_launch *l, int position) {
    if (l->seccomp_position != position) return;
    unsigned int first = 3 + (unsigned int)(l->preserve_fds > 0 ? l->preserve_fds : 0);
    if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) step_fail(l, NOOK_STEP_CLOSE_FDS, 0, errno);
    for (int fd = 3; fd < (int)first; fd++) fcntl(fd, F_SETFD, 0);
    // A #! script's interpreter reopens it as /dev/fd/N.
    if (l->exec_fd >= 0 && l->exec_fd_keep && fcntl(l->exec_fd, F_SETFD, 0) < 0) step_fail(l, NOOK_STEP_CLOSE_FDS, 0, errno);
    step_done(l, NOOK_STEP_CLOSE_FDS, 0);
}

static void set_no_new_privs(const struct nook_launch *l) {
    if (!l->no_new_privs) return;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) step_fail(l, NOOK_STEP_NO_NEW_PRIVS, 0, errno);
    step_done(l, NOOK_STEP_NO_NEW_PRIVS, 0);
}

static void ready(const struct nook_launch *l) {
    step_report(l, NOOK_MSG_READY, 0, 0, 0, 0);
    wait_ack(l);
}

// ---- the order --------------------------------------------------------------

static int process_setup(const struct nook_launch *l);

// A new container (nook_spawn). Each step is a no-op unless the plan asks for it.
static int container_setup(const struct nook_launch *l) {
    let_go_of_parent_end(l);            // EOF on the sync socket must mean the parent died; pdeathsig
    wait_for_maps(l);                   // the parent writes our id maps and places us in our cgroup
    become_setup_ids(l);                // unmapped host ids: be the namespace's root before creating files
    join_namespaces(l);                 // linux.namespaces[].path, user first (the others need its caps)
    fork_into_joined_pid_namespace(l);  // setns(CLONE_NEWPID) moves only children made after it
    unshare_cgroup_namespace(l);        // now that we sit in our own cgroup, it is the namespace's root
    setup_rootfs(l);                    // private, bind, mounts, pivot_root (child_mounts.c)
    set_hostname(l);                    // in our own UTS namespace (Swift sets it only then)
    bring_loopback_up(l);               // a new network namespace starts with lo down
    return process_setup(l);
}

// `exec` (nook_spawn_joined): a helper enters the container and forks the
// process, so that it is the caller's child (CLONE_PARENT).
static int exec_setup(const struct nook_launch *l) {
    close(l->parent_sync_fd);
    // While it is the nook binary inside the container's namespaces, nobody
    // there may open /proc/PID/exe of it (CVE-2019-5736).
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    wait_for_parent(l);
    join_namespaces(l);
    fork_as_sibling(l);
    wait_ack(l);  // --trace: the parent prints the fork line before any of ours
    return process_setup(l);
}

// The common end of both: limits, stdio, working directory, privileges, exec.
static int process_setup(const struct nook_launch *l) {
    set_rlimits(l);                                         // still privileged: raising a hard limit may need it
    set_stdio(l);                                           // captured stdio onto 0-2
    int console = open_console(l);                          // -t: a pty of the container's devpts
    leave_session(l);                                       // no pty: out of the caller's session (CVE-2017-5226)
    enter_cwd(l);                                           // resolved in the root without magic links
    become_subreaper(l);                                    // before any filter: its orphans stay its descendants
    mark_fds_cloexec_at(l, NOOK_SECCOMP_BEFORE_IDENTITY);  // always right before the filter...
    load_seccomp_at(l, NOOK_SECCOMP_BEFORE_IDENTITY);      // ...here while we hold CAP_SYS_ADMIN (no no_new_privs)
    set_identity_and_caps(l);                               // groups, gid, uid, capability sets
    set_no_new_privs(l);                                    // after capset, before the late filter (which it permits)
    mark_fds_cloexec_at(l, NOOK_SECCOMP_BEFORE_EXEC);      // ...or here, with the filter loaded just before execve
    int program = find_program(l);                          // a missing program fails now, before `create` returns
    console = hand_over_console(l, console);                // the pty becomes stdio, or waits for init's command
    wait_for_start(l);                                      // create: exec the start waiter (no return)
    ready(l);                                               // everything set up: the parent may print, then ack
    if (l->init_mode) run_as_init(l, program, console);     // --init: PID 1 forks the command (no return)
    exec_command(l, program);                               // loads a late filter, execve (no return)
}

// ---- clone3 -----------------------------------------------------------------

static pid_t spawn_with(const struct nook_launch *plan, int cgroup_fd, int *pidfd, int (*body)(const struct nook_launch *)) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);

    int pfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = plan->clone_flags | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pfd;
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        // Child. Reset every handler (Swift installs its own) before anything
        // can deliver a signal; the mask stays full until execve.
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < 65; sig++) sigaction(sig, &dfl, NULL);
        // We are a copy of nook, argv and environment included: the host
        // command line (paths, -e SECRET=...) and the caller's environment,
        // readable in the container through /proc/PID/cmdline and environ
        // for as long as we run there (until execve; for ever as --init's PID 1).
        nook_hide_args(&plan->mm, plan->title, 1);
        _exit(body(plan));
    }
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) return -e;
    *pidfd = pfd;
    return (pid_t)pid;
}

pid_t nook_spawn(const struct nook_launch *plan, int cgroup_fd, int *pidfd) {
    return spawn_with(plan, cgroup_fd, pidfd, container_setup);
}

pid_t nook_spawn_joined(const struct nook_launch *plan, int cgroup_fd, int *pidfd) {
    return spawn_with(plan, cgroup_fd, pidfd, exec_setup);
}
