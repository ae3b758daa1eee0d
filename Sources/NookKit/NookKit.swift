// The library a Swift program imports to run containers: the harness API
// (ContainerRequest, ContainerHandle, withContainer, Readiness), the runtime
// and the OCI model in one `import NookKit`. The kernel seam and the C shim stay inside.
@_exported import NookCore
@_exported import NookRuntime
@_exported import NookSpec
