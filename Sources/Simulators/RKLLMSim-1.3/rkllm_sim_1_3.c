/* librkllmrt_sim-1.3.so: the simulated RKLLM runtime built for the 1.3.0 ABI (Headers/rkllm/1.3.0/)
 * from the same sources as librkllmrt_sim.so; what 1.3.0 changed is under SIM_ABI_1_3 there. */
#define SIM_ABI_1_3 1
#define SIM_RUNTIME_VERSION "1.3.0"
#include "../RKLLMSim/rkllm_sim.c"
#include "../RKLLMSim/sim_model.c"
#include "../RKLLMSim/sim_reply.c"
