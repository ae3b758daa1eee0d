/// The seam between Nook's logic and the kernel: every call the parent side
/// of `run`, `create`, `exec` and `delete` makes goes through here, so their
/// order, errors and cleanup are unit-tested with a recording fake
/// (NookKernelTesting's `RecordingKernel`) and run for real through `LiveKernel`.
/// One protocol per concern: our own processes, the file system, and the
/// processes of a container that a command finds in /proc.
package protocol KernelInterface: ProcessKernel, FileSystemKernel, ProcessTableKernel {}
