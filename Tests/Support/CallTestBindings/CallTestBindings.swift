/// The generated bindings of the dispatch-test fixture `Tests/Fixtures/calltest/calltest.h`, written
/// by the BindingGenPlugin exactly as `RKNNBindings` is for `Headers/rknn/`.
@_exported import CallTestDescription
