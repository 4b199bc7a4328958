/* The simulated 1.3.0 runtime exports the ABI of Headers/rkllm/1.3.0/rkllm.h; it has no headers of its own. */
