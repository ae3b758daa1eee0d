# The exercise levels and their checks, shared by check.sh (the student's) and
# run.sh (CI's). Source it after lib.sh and start_as_user; it needs $nook, $work.
#
#   levels                 the level names, in order
#   level_check LEVEL [CONFIG]
#                          runs a container as you and prints "PASS  LEVEL: ..." or
#                          "FAIL  LEVEL: ..." from what the kernel reported inside;
#                          returns 0 on PASS. CONFIG: the config.json to judge (the
#                          config levels; default: a fresh `nook spec`, the unsolved
#                          state). pivot-root judges the nook binary itself.
#   level_solve LEVEL CONFIG
#                          edits CONFIG into a solution (CI's solved state)
# Needs python3 for the config.json edits the checks make (args, terminal), and
# gcc with a static libc (libc6-dev) for pivot-root's escape program.

levels=(pivot-root masked-path seccomp capabilities)
exercises=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# A busybox rootfs, made once per run in $work.
level_rootfs() {
  [[ -d $work/rootfs ]] || "$nook" rootfs busybox "$work/rootfs" >/dev/null || die "nook rootfs busybox failed"
}

# Runs the shell script $2 in a bundle made from config $1 (its process
# replaced by `sh -c SCRIPT`); output (stdout and stderr) in $work/out.
run_bundle() { # config, script
  local bundle
  bundle=$(mktemp -d "$work/bundle.XXXXXX")
  level_rootfs
  ln -s "$work/rootfs" "$bundle/rootfs"
  python3 - "$1" "$bundle/config.json" "$2" <<'PY' || die "$1 is not a config.json python3 can read"
import json, sys
config = json.load(open(sys.argv[1]))
config["root"] = {"path": "rootfs", "readonly": False}
config["process"]["terminal"] = False
config["process"]["args"] = ["/bin/sh", "-c", sys.argv[3]]
json.dump(config, open(sys.argv[2], "w"), indent=2)
PY
  "$nook" run --bundle "$bundle" "exercise-$$-${bundle##*.}" >"$work/out" 2>&1 || true
}

# The config to judge: $1, else a fresh `nook spec`.
level_config() {
  if [[ -n ${1:-} ]]; then
    [[ -f $1 ]] || die "$1: no such file (give the config.json you edited)"
    printf '%s\n' "$1"
    return
  fi
  mkdir -p "$work/spec"
  [[ -f $work/spec/config.json ]] || (cd "$work/spec" && "$nook" spec) || die "nook spec failed"
  printf '%s\n' "$work/spec/config.json"
}

# (run.sh sets level_prefix, to tell these lines from its own PASS/FAIL.)
level_pass() { say "${level_prefix:-}PASS  $1"; return 0; }
level_fail() { say "${level_prefix:-}FAIL  $1"; return 1; }

level_check() { # level, [config]
  local config got
  case $1 in
    pivot-root)
      # The escape program, static: the busybox rootfs has no libc.
      if [[ ! -x $work/escape ]]; then
        gcc -static -O2 -o "$work/escape" "$exercises/escape.c" 2>"$work/gcc.err" ||
          die "building escape.c failed (it needs gcc and libc6-dev): $(head -n 3 "$work/gcc.err")"
      fi
      level_rootfs
      cp "$work/escape" "$work/rootfs/escape"
      echo "on the host, outside the rootfs" >"$work/host-marker"
      "$nook" run --rootfs "$work/rootfs" -- /escape "$work/host-marker" >"$work/out" 2>&1 || true
      rm -f "$work/rootfs/escape"
      got=$(head -n 1 "$work/out")
      if [[ $got == contained:* ]]; then
        level_pass "pivot-root: the chroot escape stayed in the container ($got)"
      else
        level_fail "pivot-root: ${got:-no output}"
      fi ;;
    masked-path)
      config=$(level_config "${2:-}")
      run_bundle "$config" 'printf "bytes=%s\n" $(wc -c </proc/cmdline)'
      got=$(sed -n 's/^bytes=//p' "$work/out")
      if [[ $got == 0 ]]; then
        level_pass "masked-path: /proc/cmdline reads empty in the container (the host's has $(wc -c </proc/cmdline) bytes)"
      else
        level_fail "masked-path: the container read ${got:-?} bytes of the host's kernel command line from /proc/cmdline ($(head -n 1 "$work/out"))"
      fi ;;
    seccomp)
      config=$(level_config "${2:-}")
      run_bundle "$config" 'grep "^Seccomp:" /proc/self/status; : >/dev/shm/f; chmod 4755 /dev/shm/f && echo chmod=ok'
      got=$(grep -m1 -o 'chmod: .*' "$work/out" || true)
      if grep -q '^Seccomp:.*2' "$work/out" && [[ $got == *"Operation not permitted"* ]]; then
        level_pass "seccomp: the filter is on and refused chmod ($got)"
      elif grep -q '^chmod=ok' "$work/out"; then
        level_fail "seccomp: chmod 4755 succeeded: the profile still allows chmod, fchmod, fchmodat, fchmodat2"
      else
        level_fail "seccomp: $(head -n 2 "$work/out" | tr '\n' ' ')"
      fi ;;
    capabilities)
      config=$(level_config "${2:-}")
      run_bundle "$config" 'grep "^CapEff:" /proc/self/status; : >/dev/shm/f; chown 1:1 /dev/shm/f && echo chown=ok'
      got=$(sed -n 's/^CapEff:[[:space:]]*//p' "$work/out")
      if [[ -n $got ]] && ((0x$got & 1)) ; then
        level_fail "capabilities: CapEff is $got: CAP_CHOWN (bit 0) is still effective$(grep -q '^chown=ok' "$work/out" && echo ', and chown 1:1 succeeded')"
      elif [[ -n $got ]] && ! grep -q '^chown=ok' "$work/out"; then
        level_pass "capabilities: CapEff is $got, without CAP_CHOWN, and chown failed ($(grep -m1 -o 'chown: .*' "$work/out"))"
      else
        level_fail "capabilities: $(head -n 2 "$work/out" | tr '\n' ' ')"
      fi ;;
    *) die "no level '$1' (levels: ${levels[*]})" ;;
  esac
}

# The solutions: what a student's edit of config.json would be. (pivot-root's
# solution is the shipped CShims/child_mounts.c.)
level_solve() { # level, config
  python3 - "$1" "$2" <<'PY'
import json, sys
level, path = sys.argv[1], sys.argv[2]
config = json.load(open(path))
linux = config.setdefault("linux", {})
if level == "masked-path":
    linux.setdefault("maskedPaths", []).append("/proc/cmdline")
elif level == "seccomp":
    denied = {"chmod", "fchmod", "fchmodat", "fchmodat2"}
    for rule in linux["seccomp"]["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n not in denied]
    linux["seccomp"]["syscalls"] = [r for r in linux["seccomp"]["syscalls"] if r["names"]]
elif level == "capabilities":
    caps = config["process"]["capabilities"]
    for kind in caps:
        caps[kind] = [c for c in caps[kind] if c != "CAP_CHOWN"]
json.dump(config, open(path, "w"), indent=2)
PY
}
