// Seccomp filters are compiled here, in the parent, before clone(): libseccomp
// allocates, so it must never run in the child. Swift decides the rule list
// (Sources/NookKit/Security/SeccompProfile.swift); this file only translates
// it, because libseccomp's API is macros Swift cannot import.
#include "CShims.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int nook_seccomp_syscall_number(const char *name) { return seccomp_syscall_resolve_name(name); }

int nook_seccomp_arch_known(const char *name) { return seccomp_arch_resolve_name(name) ? 0 : -1; }

static uint32_t action(int kind, int err) {
    switch (kind) {
    case NOOK_SCMP_ACT_ALLOW: return SCMP_ACT_ALLOW;
    case NOOK_SCMP_ACT_ERRNO: return SCMP_ACT_ERRNO((uint16_t)err);
    case NOOK_SCMP_ACT_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
    case NOOK_SCMP_ACT_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
    case NOOK_SCMP_ACT_TRAP: return SCMP_ACT_TRAP;
    case NOOK_SCMP_ACT_TRACE: return SCMP_ACT_TRACE((uint16_t)err);
    case NOOK_SCMP_ACT_LOG: return SCMP_ACT_LOG;
    default: return SCMP_ACT_KILL_PROCESS;
    }
}

static enum scmp_compare compare(int op) {
    switch (op) {
    case NOOK_SCMP_NE: return SCMP_CMP_NE;
    case NOOK_SCMP_LT: return SCMP_CMP_LT;
    case NOOK_SCMP_LE: return SCMP_CMP_LE;
    case NOOK_SCMP_EQ: return SCMP_CMP_EQ;
    case NOOK_SCMP_GE: return SCMP_CMP_GE;
    case NOOK_SCMP_GT: return SCMP_CMP_GT;
    case NOOK_SCMP_MASKED_EQ: return SCMP_CMP_MASKED_EQ;
    default: return _SCMP_CMP_MIN;
    }
}

long nook_seccomp_compile(int default_action, int default_errno, const char *const *arches, size_t n_arches,
                          const struct nook_seccomp_rule *rules, size_t n_rules, void **out, long *bad_rule) {
    *out = NULL;
    *bad_rule = -1;
    scmp_filter_ctx ctx = seccomp_init(action(default_action, default_errno));
    if (!ctx) return -ENOMEM;
    long result = 0;
    int rc;
    // Unknown syscalls in the profile are resolved in Swift; a rule whose
    // action equals the default is pointless and refused by libseccomp.
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    for (size_t i = 0; i < n_arches; i++) {
        uint32_t arch = seccomp_arch_resolve_name(arches[i]);
        if (!arch) { result = -EINVAL; goto out; }
        rc = seccomp_arch_add(ctx, arch);
        if (rc < 0 && rc != -EEXIST) { result = rc; goto out; }
    }
    for (size_t i = 0; i < n_rules; i++) {
        const struct nook_seccomp_rule *r = &rules[i];
        int nr = seccomp_syscall_resolve_name(r->syscall);
        if (nr == __NR_SCMP_ERROR) { *bad_rule = (long)i; result = -ENOENT; goto out; }
        if (r->action == default_action && (r->action != NOOK_SCMP_ACT_ERRNO || r->errno_ret == default_errno)) continue;
        struct scmp_arg_cmp cmps[6];
        size_t n = r->n_args > 6 ? 6 : r->n_args;
        for (size_t a = 0; a < n; a++) {
            cmps[a].arg = r->args[a].index;
            cmps[a].op = compare(r->args[a].op);
            cmps[a].datum_a = r->args[a].value;
            cmps[a].datum_b = r->args[a].value_two;
        }
        rc = seccomp_rule_add_array(ctx, action(r->action, r->errno_ret), nr, (unsigned int)n, cmps);
        if (rc < 0) { *bad_rule = (long)i; result = rc; goto out; }
    }
    // libseccomp 2.5 has no export to memory: go through a memfd.
    int fd = memfd_create("nook-seccomp", MFD_CLOEXEC);
    if (fd < 0) { result = -errno; goto out; }
    rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0) { close(fd); result = rc; goto out; }
    off_t size = lseek(fd, 0, SEEK_END);
    void *buf = malloc((size_t)size);
    if (!buf) { close(fd); result = -ENOMEM; goto out; }
    if (pread(fd, buf, (size_t)size, 0) != size) { free(buf); close(fd); result = -EIO; goto out; }
    close(fd);
    *out = buf;
    result = (long)size;
out:
    seccomp_release(ctx);
    return result;
}

// The libseccomp in use, for `nook --version` (podman shows it in `podman info`).
void nook_seccomp_library_version(unsigned int *major, unsigned int *minor, unsigned int *micro) {
    const struct scmp_version *v = seccomp_version();
    *major = v ? v->major : 0;
    *minor = v ? v->minor : 0;
    *micro = v ? v->micro : 0;
}
