import NookCore

// The OCI runtime spec's config.json, as Codable Swift.
// Every way of starting a container ends as one of these (Docs/architecture.md).
// Only the fields Nook reads are modelled; unknown fields are ignored on decode.

public struct Spec: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var mounts: [Mount]?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(ociVersion: String = Spec.version, process: Process? = nil, root: Root? = nil,
                hostname: String? = nil, mounts: [Mount]? = nil, hooks: Hooks? = nil,
                annotations: [String: String]? = nil, linux: Linux? = nil) {
        (self.ociVersion, self.process, self.root, self.hostname, self.mounts, self.hooks, self.annotations, self.linux) = (ociVersion, process, root, hostname, mounts, hooks, annotations, linux)
    }

    public static let version = "1.0.2"

    public struct Process: Codable, Sendable, Equatable {
        public var terminal: Bool?
        public var consoleSize: ConsoleSize?
        public var user: User
        public var args: [String]?
        public var env: [String]?
        public var cwd: String
        public var capabilities: Capabilities?
        public var rlimits: [Rlimit]?
        public var noNewPrivileges: Bool?
        public var apparmorProfile: String?
        public var oomScoreAdj: Int?
        public var selinuxLabel: String?

        public init(terminal: Bool? = nil, user: User = User(), args: [String]? = nil, env: [String]? = nil,
                    cwd: String = "/", capabilities: Capabilities? = nil, rlimits: [Rlimit]? = nil,
                    noNewPrivileges: Bool? = nil) {
            (self.terminal, self.user, self.args, self.env, self.cwd, self.capabilities, self.rlimits, self.noNewPrivileges) = (terminal, user, args, env, cwd, capabilities, rlimits, noNewPrivileges)
        }
    }

    public struct ConsoleSize: Codable, Sendable, Equatable {
        public var height: UInt
        public var width: UInt
    }

    public struct User: Codable, Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public var umask: UInt32?
        public var additionalGids: [UInt32]?
        public init(uid: UInt32 = 0, gid: UInt32 = 0, additionalGids: [UInt32]? = nil) {
            (self.uid, self.gid, self.additionalGids) = (uid, gid, additionalGids)
        }
    }

    public struct Capabilities: Codable, Sendable, Equatable {
        /// The five sets, as capability names ("CAP_NET_RAW").
        public var bounding, effective, inheritable, permitted, ambient: [String]?
        public init(bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
                    permitted: [String]? = nil, ambient: [String]? = nil) {
            (self.bounding, self.effective, self.inheritable, self.permitted, self.ambient) = (bounding, effective, inheritable, permitted, ambient)
        }
    }

    public struct Rlimit: Codable, Sendable, Equatable {
        public var type: String
        public var hard, soft: UInt64
        public init(type: String, hard: UInt64, soft: UInt64) {
            (self.type, self.hard, self.soft) = (type, hard, soft)
        }
    }

    public struct Root: Codable, Sendable, Equatable {
        public var path: String
        public var readonly: Bool?
    }

    public struct Mount: Codable, Sendable, Equatable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?
        public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
            (self.destination, self.type, self.source, self.options) = (destination, type, source, options)
        }
    }

    public struct Hook: Codable, Sendable, Equatable {
        public var path: String
        public var args: [String]?
        public var env: [String]?
        public var timeout: Int?
    }

    public struct Hooks: Codable, Sendable, Equatable {
        /// The points of the lifecycle, in order (HookPoint).
        public var prestart, createRuntime, createContainer, startContainer, poststart, poststop: [Hook]?
    }

    public struct Linux: Codable, Sendable, Equatable {
        public var namespaces: [Namespace]?
        public var uidMappings: [IDMap]?
        public var gidMappings: [IDMap]?
        public var resources: Resources?
        public var cgroupsPath: String?
        public var seccomp: Seccomp?
        public var maskedPaths: [String]?
        public var readonlyPaths: [String]?
        public var sysctl: [String: String]?
        public var rootfsPropagation: String?
        public var mountLabel: String?
        public var devices: [Device]?
        public init(namespaces: [Namespace]? = nil, uidMappings: [IDMap]? = nil, gidMappings: [IDMap]? = nil,
                    resources: Resources? = nil, cgroupsPath: String? = nil, seccomp: Seccomp? = nil,
                    maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil, sysctl: [String: String]? = nil) {
            (self.namespaces, self.uidMappings, self.gidMappings, self.resources, self.cgroupsPath, self.seccomp, self.maskedPaths, self.readonlyPaths, self.sysctl) = (namespaces, uidMappings, gidMappings, resources, cgroupsPath, seccomp, maskedPaths, readonlyPaths, sysctl)
        }
    }

    /// `linux.devices[]`: a node the container's /dev must have.
    public struct Device: Codable, Sendable, Equatable {
        public var path: String
        /// "c" or "u" (character), "b" (block), "p" (FIFO).
        public var type: String
        public var major: Int64?
        public var minor: Int64?
        public var fileMode: UInt32?
        public var uid: UInt32?
        public var gid: UInt32?
        public init(path: String, type: String, major: Int64? = nil, minor: Int64? = nil) {
            (self.path, self.type, self.major, self.minor) = (path, type, major, minor)
        }
    }

    public struct Namespace: Codable, Sendable, Equatable {
        public var type: String
        public var path: String?
        public init(type: String, path: String? = nil) {
            (self.type, self.path) = (type, path)
        }
    }

    public struct IDMap: Codable, Sendable, Equatable {
        public var containerID, hostID, size: UInt32
        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            (self.containerID, self.hostID, self.size) = (containerID, hostID, size)
        }
    }

    public struct Seccomp: Codable, Sendable, Equatable {
        public var defaultAction: String
        public var defaultErrnoRet: UInt32?
        public var architectures: [String]?
        public var syscalls: [SyscallRule]?
        public init(defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil,
                    syscalls: [SyscallRule]? = nil) {
            (self.defaultAction, self.defaultErrnoRet, self.architectures, self.syscalls) = (defaultAction, defaultErrnoRet, architectures, syscalls)
        }
    }

    public struct SyscallRule: Codable, Sendable, Equatable {
        public var names: [String]
        public var action: String
        public var errnoRet: UInt32?
        public var args: [SyscallArg]?
        public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SyscallArg]? = nil) {
            (self.names, self.action, self.errnoRet, self.args) = (names, action, errnoRet, args)
        }
    }

    public struct SyscallArg: Codable, Sendable, Equatable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String
        public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
            (self.index, self.value, self.valueTwo, self.op) = (index, value, valueTwo, op)
        }
    }
}
