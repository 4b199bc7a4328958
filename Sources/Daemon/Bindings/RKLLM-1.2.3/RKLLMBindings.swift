/// The generated bindings of `Headers/rkllm/1.2.3/` (Types, Dispatch, Callbacks, Layout, Constants,
/// OpenRPC, Runtimes) are written by the BindingGenPlugin at build time into this module; nothing
/// generated is committed.
@_exported import BindingRuntime
