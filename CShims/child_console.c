// The container child's stdio: captured fds, a -t pty from the container's
// own devpts instance (so `tty` and ttyname() work inside), or /dev/null.
// Where the pty goes was decided in Swift (console_mode: ChildSteps.consoleMode).
#include "child_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

void set_stdio(const struct nook_launch *l) {
    for (int fd = 0; fd < 3; fd++) {
        if (l->stdio_fds[fd] >= 0 && l->stdio_fds[fd] != fd && dup2(l->stdio_fds[fd], fd) < 0)
            step_fail(l, NOOK_STEP_CONSOLE, fd, errno);
    }
}

void stdio_to_dev_null(void) {
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) return;
    for (int fd = 0; fd < 3; fd++) dup2(devnull, fd);
    close(devnull);
}

// -t: open a pty, send its master to the parent over the sync socket; the slave, or -1.
int open_console(const struct nook_launch *l) {
    if (l->console_mode == NOOK_CONSOLE_NONE) return -1;
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) step_fail(l, NOOK_STEP_CONSOLE, 0, errno);
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) step_fail(l, NOOK_STEP_CONSOLE, 0, errno);
    // The size goes on now, while nothing runs on the pty: the parent copies
    // the caller's size only once it relays, which can be after the command
    // asked (a 0x0 size: `stty size` fails, full-screen programs draw wrong).
    if (l->console_rows && l->console_cols) {
        struct winsize ws = {l->console_rows, l->console_cols, 0, 0};
        if (ioctl(master, TIOCSWINSZ, &ws) < 0) step_fail(l, NOOK_STEP_CONSOLE, 0, errno);
    }
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) step_fail(l, NOOK_STEP_CONSOLE, 0, errno);

    struct nook_msg m = {NOOK_MSG_CONSOLE, NOOK_STEP_CONSOLE, 0, 0, 0};
    if (send_with_fd(l->sync_fd, &m, sizeof m, master) < 0) step_fail(l, NOOK_STEP_CONSOLE, 0, errno);
    close(master);
    step_done(l, NOOK_STEP_CONSOLE, 0);
    return slave;
}

// Become a session leader with the pty as controlling terminal and stdio.
void take_console(const struct nook_launch *l, int slave) {
    if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) step_fail(l, NOOK_STEP_CONSOLE, 1, errno);
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0) step_fail(l, NOOK_STEP_CONSOLE, 1, errno);
    if (slave > 2) close(slave);
}

// Before waiting for `start` or READY: let go of the caller's stdio (its pipes
// would never see EOF). NOW: the pty is ours from here on. IN_COMMAND: --init's
// command takes it after the fork (returned); until then, /dev/null.
int hand_over_console(const struct nook_launch *l, int console) {
    if (console < 0) return -1;
    if (l->console_mode == NOOK_CONSOLE_NOW) {
        take_console(l, console);
        return -1;
    }
    stdio_to_dev_null();
    return console;
}
