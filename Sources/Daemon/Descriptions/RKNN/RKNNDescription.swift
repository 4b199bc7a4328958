/// What the methods of `Headers/rknn/` are (MethodSpecs, Constants, OpenRPC, Runtimes), written by the
/// BindingGenPlugin at build time into this module, which imports no C. Nothing generated is committed.
@_exported import BindingRuntime
