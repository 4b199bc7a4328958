/// The generated bindings of `Headers/rknn/` (Types, Dispatch, Callbacks, Layout) are written by the
/// BindingGenPlugin at build time into this module, over the C module and the description. Nothing
/// generated is committed.
@_exported import RKNNDescription
