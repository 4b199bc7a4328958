/// The generated description of the dispatch-test fixture `Tests/Fixtures/calltest/calltest.h`,
/// written by the BindingGenPlugin exactly as `RKNNDescription` is for `Headers/rknn/`.
@_exported import BindingRuntime
