import NookCore

// The OCI runtime spec's config.json, as Codable Swift.
// Every way of starting a container ends as one of these (Docs/architecture.md).
// Only the fields Nook reads are modelled; unknown fields are ignored on decode.

package struct Spec: Codable, Sendable, Equatable {
    package var ociVersion: String
    package var process: Process?
    package var root: Root?
    package var hostname: String?
    package var mounts: [Mount]?
    package var hooks: Hooks?
    package var annotations: [String: String]?
    package var linux: Linux?

    package init(ociVersion: String = Spec.version, process: Process? = nil, root: Root? = nil,
                hostname: String? = nil, mounts: [Mount]? = nil, hooks: Hooks? = nil,
                annotations: [String: String]? = nil, linux: Linux? = nil) {
        (self.ociVersion, self.process, self.root, self.hostname, self.mounts, self.hooks, self.annotations, self.linux) = (ociVersion, process, root, hostname, mounts, hooks, annotations, linux)
    }

    package static let version = "1.0.2"

    package struct Process: Codable, Sendable, Equatable {
        package var terminal: Bool?
        package var consoleSize: ConsoleSize?
        package var user: User
        package var args: [String]?
        package var env: [String]?
        package var cwd: String
        package var capabilities: Capabilities?
        package var rlimits: [Rlimit]?
        package var noNewPrivileges: Bool?
        package var apparmorProfile: String?
        package var oomScoreAdj: Int?
        package var selinuxLabel: String?

        package init(terminal: Bool? = nil, user: User = User(), args: [String]? = nil, env: [String]? = nil,
                    cwd: String = "/", capabilities: Capabilities? = nil, rlimits: [Rlimit]? = nil,
                    noNewPrivileges: Bool? = nil) {
            (self.terminal, self.user, self.args, self.env, self.cwd, self.capabilities, self.rlimits, self.noNewPrivileges) = (terminal, user, args, env, cwd, capabilities, rlimits, noNewPrivileges)
        }
    }

    package struct ConsoleSize: Codable, Sendable, Equatable {
        package var height: UInt
        package var width: UInt
    }

    package struct User: Codable, Sendable, Equatable {
        package var uid: UInt32
        package var gid: UInt32
        package var umask: UInt32?
        package var additionalGids: [UInt32]?
        package init(uid: UInt32 = 0, gid: UInt32 = 0, additionalGids: [UInt32]? = nil) {
            (self.uid, self.gid, self.additionalGids) = (uid, gid, additionalGids)
        }
    }

    package struct Capabilities: Codable, Sendable, Equatable {
        /// The five sets, as capability names ("CAP_NET_RAW").
        package var bounding, effective, inheritable, permitted, ambient: [String]?
        package init(bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
                    permitted: [String]? = nil, ambient: [String]? = nil) {
            (self.bounding, self.effective, self.inheritable, self.permitted, self.ambient) = (bounding, effective, inheritable, permitted, ambient)
        }
    }

    package struct Rlimit: Codable, Sendable, Equatable {
        package var type: String
        package var hard, soft: UInt64
        package init(type: String, hard: UInt64, soft: UInt64) {
            (self.type, self.hard, self.soft) = (type, hard, soft)
        }
    }

    package struct Root: Codable, Sendable, Equatable {
        package var path: String
        package var readonly: Bool?
    }

    package struct Mount: Codable, Sendable, Equatable {
        package var destination: String
        package var type: String?
        package var source: String?
        package var options: [String]?
        package init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
            (self.destination, self.type, self.source, self.options) = (destination, type, source, options)
        }
    }

    package struct Hook: Codable, Sendable, Equatable {
        package var path: String
        package var args: [String]?
        package var env: [String]?
        package var timeout: Int?
    }

    package struct Hooks: Codable, Sendable, Equatable {
        /// The points of the lifecycle, in order (HookPoint).
        package var prestart, createRuntime, createContainer, startContainer, poststart, poststop: [Hook]?
    }

    package struct Linux: Codable, Sendable, Equatable {
        package var namespaces: [Namespace]?
        package var uidMappings: [IDMap]?
        package var gidMappings: [IDMap]?
        package var resources: Resources?
        package var cgroupsPath: String?
        package var seccomp: Seccomp?
        package var maskedPaths: [String]?
        package var readonlyPaths: [String]?
        package var sysctl: [String: String]?
        package var rootfsPropagation: String?
        package var mountLabel: String?
        package var devices: [Device]?
        package init(namespaces: [Namespace]? = nil, uidMappings: [IDMap]? = nil, gidMappings: [IDMap]? = nil,
                    resources: Resources? = nil, cgroupsPath: String? = nil, seccomp: Seccomp? = nil,
                    maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil, sysctl: [String: String]? = nil) {
            (self.namespaces, self.uidMappings, self.gidMappings, self.resources, self.cgroupsPath, self.seccomp, self.maskedPaths, self.readonlyPaths, self.sysctl) = (namespaces, uidMappings, gidMappings, resources, cgroupsPath, seccomp, maskedPaths, readonlyPaths, sysctl)
        }
    }

    /// `linux.devices[]`: a node the container's /dev must have.
    package struct Device: Codable, Sendable, Equatable {
        package var path: String
        /// "c" or "u" (character), "b" (block), "p" (FIFO).
        package var type: String
        package var major: Int64?
        package var minor: Int64?
        package var fileMode: UInt32?
        package var uid: UInt32?
        package var gid: UInt32?
        package init(path: String, type: String, major: Int64? = nil, minor: Int64? = nil) {
            (self.path, self.type, self.major, self.minor) = (path, type, major, minor)
        }
    }

    package struct Namespace: Codable, Sendable, Equatable {
        package var type: String
        package var path: String?
        package init(type: String, path: String? = nil) {
            (self.type, self.path) = (type, path)
        }
    }

    package struct IDMap: Codable, Sendable, Equatable {
        package var containerID, hostID, size: UInt32
        package init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            (self.containerID, self.hostID, self.size) = (containerID, hostID, size)
        }
    }

    package struct Seccomp: Codable, Sendable, Equatable {
        package var defaultAction: String
        package var defaultErrnoRet: UInt32?
        package var architectures: [String]?
        package var syscalls: [SyscallRule]?
        package init(defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil,
                    syscalls: [SyscallRule]? = nil) {
            (self.defaultAction, self.defaultErrnoRet, self.architectures, self.syscalls) = (defaultAction, defaultErrnoRet, architectures, syscalls)
        }
    }

    package struct SyscallRule: Codable, Sendable, Equatable {
        package var names: [String]
        package var action: String
        package var errnoRet: UInt32?
        package var args: [SyscallArg]?
        package init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SyscallArg]? = nil) {
            (self.names, self.action, self.errnoRet, self.args) = (names, action, errnoRet, args)
        }
    }

    package struct SyscallArg: Codable, Sendable, Equatable {
        package var index: UInt32
        package var value: UInt64
        package var valueTwo: UInt64?
        package var op: String
        package init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
            (self.index, self.value, self.valueTwo, self.op) = (index, value, valueTwo, op)
        }
    }
}
