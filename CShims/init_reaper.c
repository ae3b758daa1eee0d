// --init: the container's PID 1 is this clone of nook, which forks the
// command and then only forwards signals and reaps. It runs in the container
// after the clone, so it cannot be Swift; it is not the start waiter either
// (that one exists only for `create`, and holds no fork, pty or reaping).
#include "child_internal.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

// Forward every signal to the command, reap every zombie, and return the
// command's status as an exit code.
static int forward_signals_and_reap(pid_t command) {
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            kill(command, sig);
            continue;
        }
        for (;;) {
            int status;
            pid_t p = waitpid(-1, &status, WNOHANG);
            if (p <= 0) break;
            if (p == command) {
                if (WIFEXITED(status)) return WEXITSTATUS(status);
                if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            }
        }
    }
}

// It never returns to Swift and never execs anything else. Non-dumpable
// before the command exists, not after: from its first instruction it could
// open /proc/1/exe (CVE-2019-5736). The command is dumpable again once it has
// exec'd. All signals stay blocked here (sigwaitinfo takes them).
void run_as_init(const struct nook_launch *l, int program, int console) {
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    pid_t command = fork();
    if (command < 0) step_fail(l, NOOK_STEP_INIT_FORK, 0, errno);
    if (command == 0) {
        if (console >= 0) take_console(l, console);
        exec_command(l, program);
    }
    if (console >= 0) close(console);
    // The init holds no stdio of the container's: its command does.
    stdio_to_dev_null();
    step_report(l, NOOK_MSG_PID, NOOK_STEP_INIT_FORK, 0, 0, command);
    close(l->sync_fd);
    _exit(forward_signals_and_reap(command));
}
