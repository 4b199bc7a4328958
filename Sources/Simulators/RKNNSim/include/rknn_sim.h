/* The simulated runtime exports the ABI of Headers/rknn/rknn_api.h; it has no headers of its own. */
