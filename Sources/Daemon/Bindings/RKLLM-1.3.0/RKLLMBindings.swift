/// The generated bindings of `Headers/rkllm/1.3.0/` (Types, Dispatch, Callbacks, Layout) are written by the
/// BindingGenPlugin at build time into this module, over the C module and the version's description.
/// Nothing generated is committed.
@_exported import RKLLMDescription_1_3_0
