// What /proc/PID/cmdline and environ show of a clone of nook: the container's
// child wipes nook's argv and environment first thing (child_setup.c).
#include "CShims.h"

#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

void nook_hide_args(const struct nook_mm_layout *mm, const char *title, int environment) {
    if (!mm->arg_start || mm->arg_end <= mm->arg_start || mm->env_end < mm->env_start) return;
    memset((void *)(uintptr_t)mm->arg_start, 0, mm->arg_end - mm->arg_start);
    if (environment) memset((void *)(uintptr_t)mm->env_start, 0, mm->env_end - mm->env_start);
    size_t n = title ? strlen(title) : 0;
    if (n > mm->arg_end - mm->arg_start - 1) n = mm->arg_end - mm->arg_start - 1;
    if (n) memcpy((void *)(uintptr_t)mm->arg_start, title, n);

    // Shrink the areas to what is left (PR_SET_MM_MAP needs no privilege;
    // where it fails, zeroes are all there is to read).
    struct prctl_mm_map map;
    memset(&map, 0, sizeof map);
    map.start_code = mm->start_code;
    map.end_code = mm->end_code;
    map.start_data = mm->start_data;
    map.end_data = mm->end_data;
    map.start_brk = mm->start_brk;
    map.brk = (uint64_t)syscall(SYS_brk, 0);
    map.start_stack = mm->start_stack;
    map.arg_start = mm->arg_start;
    map.arg_end = mm->arg_start + n + 1;
    map.env_start = mm->env_start;
    map.env_end = environment ? mm->env_start : mm->env_end;
    map.exe_fd = (uint32_t)-1;
    prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&map, sizeof map, 0);
}
