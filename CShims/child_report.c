// The container child reports each step to the parent as a fixed-size record
// (nook_protocol.h), so a failure reaches the user as "mount proc on /proc:
// permission denied", not "exit 1"; the parent turns steps into words.
#include "child_internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

void step_report(const struct nook_launch *l, int type, int step, int index, int err, int value) {
    struct nook_msg m = {type, step, index, err, value};
    ssize_t r;
    do {
        r = send(l->sync_fd, &m, sizeof m, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
}

void step_done(const struct nook_launch *l, int step, int index) {
    if (l->trace) step_report(l, NOOK_MSG_STEP, step, index, 0, 0);
}

void step_fail(const struct nook_launch *l, int step, int index, int err) {
    step_report(l, NOOK_MSG_FAIL, step, index, err, 0);
    _exit(NOOK_EXIT_SETUP_FAILED);
}

// One byte from the parent; EOF means the parent is gone: stop here.
static void read_one_byte(const struct nook_launch *l) {
    char byte;
    ssize_t r;
    do {
        r = read(l->sync_fd, &byte, 1);
    } while (r < 0 && errno == EINTR);
    if (r != 1) _exit(NOOK_EXIT_SETUP_FAILED);
}

// Under --trace, wait until the parent printed what we reported, so trace
// lines never interleave with the command's own output.
void wait_ack(const struct nook_launch *l) {
    if (l->trace) read_one_byte(l);
}

// Wait for the parent's go-ahead (maps written, pid recorded).
void wait_for_parent(const struct nook_launch *l) { read_one_byte(l); }
