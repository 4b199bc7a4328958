/* An example custom-operator plugin (librkcst_cstSigmoid.so): exports get_rknn_custom_op only. */
