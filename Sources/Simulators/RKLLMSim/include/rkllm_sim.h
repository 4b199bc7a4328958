/* The simulated runtime exports the ABI of Headers/rkllm.h; it has no headers of its own. */
