// What the files of the container child share (child_*.c, init_reaper.c,
// fd_passing.c). Not an entry point for Swift, so not in include/CShims.h.
// Everything here runs between clone3() and execve(): async-signal-safe only.
#ifndef NOOK_CHILD_INTERNAL_H
#define NOOK_CHILD_INTERNAL_H

#include "CShims.h"

#define NOOK_HIDDEN __attribute__((visibility("hidden")))

// child_report.c: the step protocol over l->sync_fd (nook_protocol.h).
NOOK_HIDDEN void step_report(const struct nook_launch *l, int type, int step, int index, int err, int value);
NOOK_HIDDEN void step_done(const struct nook_launch *l, int step, int index);
NOOK_HIDDEN __attribute__((noreturn)) void step_fail(const struct nook_launch *l, int step, int index, int err);
NOOK_HIDDEN void wait_ack(const struct nook_launch *l);
NOOK_HIDDEN void wait_for_parent(const struct nook_launch *l);

// fd_passing.c: sendmsg(buf) with fd attached as SCM_RIGHTS.
NOOK_HIDDEN int send_with_fd(int sock, const void *buf, size_t len, int fd);

// child_mounts.c: make private, bind, mount the list, pivot_root.
NOOK_HIDDEN void setup_rootfs(const struct nook_launch *l);

// child_identity.c
NOOK_HIDDEN void become_setup_ids(const struct nook_launch *l);
NOOK_HIDDEN void set_identity_and_caps(const struct nook_launch *l);

// child_console.c
NOOK_HIDDEN void set_stdio(const struct nook_launch *l);
NOOK_HIDDEN int open_console(const struct nook_launch *l);
NOOK_HIDDEN int hand_over_console(const struct nook_launch *l, int console);
NOOK_HIDDEN void take_console(const struct nook_launch *l, int slave);
NOOK_HIDDEN void stdio_to_dev_null(void);

// child_exec.c
NOOK_HIDDEN void load_seccomp_at(const struct nook_launch *l, int position);
NOOK_HIDDEN int find_program(const struct nook_launch *l);
NOOK_HIDDEN void wait_for_start(const struct nook_launch *l);
NOOK_HIDDEN __attribute__((noreturn)) void exec_command(const struct nook_launch *l, int program);

// init_reaper.c
NOOK_HIDDEN __attribute__((noreturn)) void run_as_init(const struct nook_launch *l, int program, int console);

#endif
