/*
 * measure: start a command COUNT times and report, for each start, its wall
 * time and the peak RSS of its process tree.
 *
 *   measure [-n COUNT] [-j PARALLEL] [-a] -- CMD [ARG...]
 *
 * One line per start, in the order they end:
 *   run INDEX WALL_NS MAXRSS_KIB STATUS
 * then one line for the whole batch:
 *   total WALL_NS FAILED
 * STATUS is the exit code, or 128+N for signal N. "{i}" in an argument is
 * replaced by "<pid of measure>-<INDEX>" (unique container ids).
 *
 * Wall time runs from just before fork() to the return of wait4(): it includes
 * fork+exec of the runtime itself, which every user pays. Peak RSS is wait4's
 * ru_maxrss, the largest resident set of any single process in the tree the
 * child waited for (the runtime, its helpers such as newuidmap, the container's
 * process); it is not a sum. measure is a small C program, so the copy of it
 * that exists between fork() and exec() (a few hundred KiB) does not inflate it,
 * as a fork of a Python or Go parent would.
 *
 * Sequential (-j 1, the default): stops at the first failing start.
 * Parallel (-j P): keeps P starts in flight until COUNT have been started,
 * waits for all of them, and reports how many failed.
 * -a: any exit status counts as success (to time commands that fail on purpose,
 * e.g. `newuidmap` with no arguments, when profiling).
 * Exit status: 0 when every start exited 0, 1 otherwise, 2 on usage errors.
 * The child's stdin and stdout are /dev/null; stderr is inherited.
 *
 * Build: gcc -O2 -o measure measure.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARALLEL 1024

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char **argv_for(char **cmd, int argc, long index) {
    char **out = calloc((size_t)argc + 1, sizeof *out);
    char id[64];
    snprintf(id, sizeof id, "%ld-%ld", (long)getpid(), index);
    for (int i = 0; i < argc; i++) {
        char *at = strstr(cmd[i], "{i}");
        if (!at) { out[i] = cmd[i]; continue; }
        size_t len = strlen(cmd[i]) - 3 + strlen(id) + 1;
        out[i] = malloc(len);
        snprintf(out[i], len, "%.*s%s%s", (int)(at - cmd[i]), cmd[i], id, at + 3);
    }
    return out;
}

static pid_t start(char **cmd, int argc, long index, int devnull) {
    char **args = argv_for(cmd, argc, index);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        execvp(args[0], args);
        fprintf(stderr, "measure: exec %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    if (pid < 0) { perror("measure: fork"); exit(1); }
    for (int i = 0; i < argc; i++) if (args[i] != cmd[i]) free(args[i]);
    free(args);
    return pid;
}

int main(int argc, char **argv) {
    long count = 1, parallel = 1;
    int opt, any_status = 0;
    while ((opt = getopt(argc, argv, "+n:j:a")) != -1) {
        switch (opt) {
        case 'n': count = atol(optarg); break;
        case 'j': parallel = atol(optarg); break;
        case 'a': any_status = 1; break;
        default:
            fprintf(stderr, "usage: measure [-n COUNT] [-j PARALLEL] [-a] -- CMD [ARG...]\n");
            return 2;
        }
    }
    if (optind >= argc || count < 1 || parallel < 1 || parallel > MAX_PARALLEL) {
        fprintf(stderr, "usage: measure [-n COUNT] [-j PARALLEL] [-a] -- CMD [ARG...]\n");
        return 2;
    }
    char **cmd = &argv[optind];
    int cmdc = argc - optind;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) { perror("measure: /dev/null"); return 1; }
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct { pid_t pid; long index; uint64_t t0; } slots[MAX_PARALLEL];
    long started = 0, running = 0, failed = 0;
    uint64_t begin = now_ns();
    while (started < count || running > 0) {
        while (running < parallel && started < count && (parallel > 1 || failed == 0)) {
            slots[running].index = started;
            slots[running].t0 = now_ns();
            slots[running].pid = start(cmd, cmdc, started, devnull);
            running++, started++;
        }
        if (running == 0) break;
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, 0, &ru);
        uint64_t t1 = now_ns();
        if (pid < 0) {
            if (errno == EINTR) continue;
            perror("measure: wait4");
            return 1;
        }
        int k = 0;
        while (k < running && slots[k].pid != pid) k++;
        if (k == running) continue; /* not ours (cannot happen: we have no other children) */
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (code != 0 && !any_status) failed++;
        printf("run %ld %llu %ld %d\n", slots[k].index, (unsigned long long)(t1 - slots[k].t0), ru.ru_maxrss, code);
        slots[k] = slots[--running];
        if (parallel == 1 && failed) break;
    }
    printf("total %llu %ld\n", (unsigned long long)(now_ns() - begin), failed);
    return failed ? 1 : 0;
}
