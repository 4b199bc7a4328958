/// The generated bindings of `Headers/rknn/` (Types, Dispatch, Callbacks, Layout, Constants, OpenRPC,
/// Runtimes) are written by the BindingGenPlugin at build time into this module; nothing generated is
/// committed.
@_exported import BindingRuntime
