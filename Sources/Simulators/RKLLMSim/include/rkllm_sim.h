/* The simulated runtime exports the ABI of Headers/rkllm/1.2.3/rkllm.h; it has no headers of its own. */
