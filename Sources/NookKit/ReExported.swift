import NookCore
import NookRuntime

// What NookKit's own declarations need of the modules below it, re-exported
// one type at a time: a harness sees these and NookKit's types, nothing else
// (Scripts/public-surface.py keeps the rest of Nook `package`). Each stays
// one type, so an error thrown deep in the runtime is the type a harness matches.

/// A failure of the runtime itself (a rootfs that does not exist, a command
/// not found, a port already taken): match its `kind`
/// (`NookError.Kind.commandNotFound`, `.systemCall(step:path:errno:)`, ...),
/// never the words of its `message`.
public typealias NookError = NookCore.NookError

/// How a container reaches the network: `.none` (only loopback, the default;
/// published ports go through Nook's own forwarder), `.pasta(...)`,
/// `.slirp4netns(...)`, or `.host` (no network isolation).
public typealias NetworkMode = NookRuntime.NetworkMode

/// cgroup limits as `nook run` takes them: `ResourceFlags(memory: "64M", pidsLimit: 100, cpus: "0.5")`.
public typealias ResourceFlags = NookRuntime.ResourceFlags

/// Which nook binary runs a detached container's monitor: `.locate` (the
/// default: `$NOOK_BINARY`, beside the test binary, then `PATH`) or `.path(...)`.
public typealias MonitorExecutable = NookRuntime.MonitorExecutable
