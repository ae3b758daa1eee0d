// The container child's ids and capabilities. Raw syscalls throughout:
// glibc's setresuid/setresgid/setgroups wrappers would signal the parent's
// other threads, which do not exist in this child, and wait for them forever.
#include "child_internal.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// Real root's own ids are not in the map (root maps to a sub-range), so
// files we create would be EOVERFLOW: become the namespace's root first.
void become_setup_ids(const struct nook_launch *l) {
    if (l->setup_gid >= 0 && syscall(SYS_setresgid, (gid_t)l->setup_gid, (gid_t)l->setup_gid, (gid_t)l->setup_gid) < 0)
        step_fail(l, NOOK_STEP_SETGID, 0, errno);
    if (l->setup_uid < 0) return;
    if (syscall(SYS_setresuid, (uid_t)l->setup_uid, (uid_t)l->setup_uid, (uid_t)l->setup_uid) < 0)
        step_fail(l, NOOK_STEP_SETUID, 0, errno);
    // A new euid made us non-dumpable, and then nook, whose ids are not ours,
    // could not open our /proc/PID/ns to `exec` into a created container. Back
    // to how a mapped caller's child is (its euid never changes): dumpable.
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

// Bounding set first: dropping from it needs CAP_SETPCAP, which we still have.
static void drop_bounding(const struct nook_launch *l) {
    for (int cap = 0; cap <= l->cap_last; cap++) {
        if (!(l->cap_bounding & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            step_fail(l, NOOK_STEP_CAPS, cap, errno);
    }
    // Keep permitted caps across the uid change below.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) step_fail(l, NOOK_STEP_CAPS, -1, errno);
}

static void set_ids(const struct nook_launch *l) {
    if (l->set_groups) {
        if (syscall(SYS_setgroups, l->n_groups, l->groups) < 0) step_fail(l, NOOK_STEP_SETGROUPS, 0, errno);
        step_done(l, NOOK_STEP_SETGROUPS, 0);
    }
    if (syscall(SYS_setresgid, l->gid, l->gid, l->gid) < 0) step_fail(l, NOOK_STEP_SETGID, 0, errno);
    step_done(l, NOOK_STEP_SETGID, 0);
    if (syscall(SYS_setresuid, l->uid, l->uid, l->uid) < 0) step_fail(l, NOOK_STEP_SETUID, 0, errno);
    step_done(l, NOOK_STEP_SETUID, 0);
}

// capset(2) for the effective, permitted and inheritable sets; then the ambient set.
static void set_caps(const struct nook_launch *l) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)l->cap_effective;
    data[1].effective = (uint32_t)(l->cap_effective >> 32);
    data[0].permitted = (uint32_t)l->cap_permitted;
    data[1].permitted = (uint32_t)(l->cap_permitted >> 32);
    data[0].inheritable = (uint32_t)l->cap_inheritable;
    data[1].inheritable = (uint32_t)(l->cap_inheritable >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0) step_fail(l, NOOK_STEP_CAPS, -1, errno);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int cap = 0; cap <= l->cap_last; cap++) {
        if ((l->cap_ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            step_fail(l, NOOK_STEP_CAPS, cap, errno);
    }
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    step_done(l, NOOK_STEP_CAPS, -1);
}

void set_identity_and_caps(const struct nook_launch *l) {
    if (l->set_caps) drop_bounding(l);
    set_ids(l);
    if (l->set_caps) set_caps(l);
}
