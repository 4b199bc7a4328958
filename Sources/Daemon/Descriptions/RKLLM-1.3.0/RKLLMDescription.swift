/// What the methods of `Headers/rkllm/1.3.0/` are (MethodSpecs, Constants, OpenRPC, Runtimes), written by
/// the BindingGenPlugin at build time into this module; it imports no C, so the daemon holds the
/// descriptions of every RKLLM version it serves. Nothing generated is committed.
@_exported import BindingRuntime
