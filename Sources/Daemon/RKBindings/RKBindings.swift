/// The generated bindings of `Headers/` (Types, Dispatch, Callbacks, Layout, Constants, OpenRPC) are
/// written by the BindingGenPlugin at build time into this module; nothing generated is committed.
@_exported import BindingRuntime
